// Characters by YAML's rules, shared by the emitter and the block reader.
#pragma once

namespace meshfed {

// A character a plain scalar cannot start with: an indicator (YAML 1.1 §4.1.1, as libyaml's
// scanner starts its tokens), a quote, or white space.
inline bool IsIndicatorStart(char c) {
  switch (c) {
    case '-':
    case '?':
    case ':':
    case ',':
    case '[':
    case ']':
    case '{':
    case '}':
    case '#':
    case '&':
    case '*':
    case '!':
    case '|':
    case '>':
    case '\'':
    case '"':
    case '%':
    case '@':
    case '`':
    case ' ':
    case '\t':
      return true;
    default:
      return false;
  }
}

}  // namespace meshfed
