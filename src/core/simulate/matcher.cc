#include "core/simulate/matcher.h"

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>

#include "core/model/text.h"

namespace meshfed {
namespace {

std::string Describe(const Node& match) {
  for (const char* kind : {"exact", "prefix", "regex"}) {
    if (const Node* v = match.Find(kind); v && v->IsScalar()) {
      return fmt::format("{} \"{}\"", kind, v->text());
    }
  }
  return "present";
}

bool IsPresenceOnly(const Node& match) {
  if (!match.IsMapping() || match.entries().empty()) return true;  // {}: present
  const Node* regex = match.Find("regex");
  return regex && regex->IsScalar() && regex->text() == "*";  // special-cased by Istio
}

}  // namespace

Matcher::Matcher() = default;
Matcher::~Matcher() = default;

const re2::RE2* Matcher::Compile(std::string_view pattern) {
  auto it = cache_.find(pattern);
  if (it == cache_.end()) {
    re2::RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_unique<re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
    it = cache_.emplace(std::string(pattern), std::move(re)).first;
  }
  return it->second->ok() ? it->second.get() : nullptr;
}

bool Matcher::FullMatch(std::string_view pattern, std::string_view value) {
  const re2::RE2* re = Compile(pattern);
  return re && re2::RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *re);
}

std::string Matcher::RegexReplace(std::string_view pattern, std::string_view substitution,
                                  std::string value) {
  if (const re2::RE2* re = Compile(pattern)) {
    re2::RE2::GlobalReplace(&value, *re,
                            re2::StringPiece(substitution.data(), substitution.size()));
  }
  return value;
}

bool Matcher::StringMatches(const Node& match, std::string_view value, bool ignore_case) {
  if (const Node* exact = match.Find("exact"); exact && exact->IsScalar()) {
    return ignore_case ? ToLower(exact->text()) == ToLower(value) : exact->text() == value;
  }
  if (const Node* prefix = match.Find("prefix"); prefix && prefix->IsScalar()) {
    std::string p(ignore_case ? ToLower(prefix->text()) : prefix->text());
    std::string v = ignore_case ? ToLower(value) : std::string(value);
    return v.compare(0, p.size(), p) == 0;
  }
  if (const Node* regex = match.Find("regex"); regex && regex->IsScalar()) {
    return FullMatch(regex->text(), value);
  }
  return true;  // no match type: any value
}

bool Matcher::Matches(const Node& block, const Request& request, std::string& why) {
  if (!block.IsMapping()) return true;
  bool ignore_case = false;
  if (const Node* ic = block.Find("ignoreUriCase"); ic && ic->IsScalar()) {
    ignore_case = ic->text() == "true";
  }
  if (const Node* uri = block.Find("uri"); uri && uri->IsMapping()) {
    bool regex = uri->Find("regex") != nullptr;  // ignoreUriCase does not apply to regex
    if (!StringMatches(*uri, request.path, ignore_case && !regex)) {
      why = fmt::format("uri {} does not match {}", Describe(*uri), request.path);
      return false;
    }
  }
  struct Pseudo {
    const char* field;
    const std::string& value;
  };
  for (const Pseudo& p : {Pseudo{"scheme", request.scheme}, Pseudo{"method", request.method},
                          Pseudo{"authority", request.authority}}) {
    if (const Node* m = block.Find(p.field); m && m->IsMapping()) {
      if (!StringMatches(*m, p.value)) {
        why = fmt::format("{} {} does not match \"{}\"", p.field, Describe(*m), p.value);
        return false;
      }
    }
  }
  if (const Node* headers = block.Find("headers"); headers && headers->IsMapping()) {
    for (const MapEntry& e : headers->entries()) {
      std::optional<std::string> value = request.Header(e.key);
      bool ok;
      if (IsPresenceOnly(e.value)) {
        ok = value.has_value();
      } else {
        ok = value.has_value() && StringMatches(e.value, *value);
      }
      if (!ok) {
        why = value ? fmt::format("header {} \"{}\" does not match {}", e.key, *value,
                                  Describe(e.value))
                    : fmt::format("header {} is absent (needs {})", e.key, Describe(e.value));
        return false;
      }
    }
  }
  if (const Node* without = block.Find("withoutHeaders"); without && without->IsMapping()) {
    for (const MapEntry& e : without->entries()) {
      std::optional<std::string> value = request.Header(e.key);
      bool matched;
      if (IsPresenceOnly(e.value)) {
        matched = value.has_value();
      } else {
        // treat_missing_header_as_empty: an absent header counts as "".
        matched = StringMatches(e.value, value.value_or(""));
      }
      if (matched) {
        why = fmt::format("withoutHeaders {} {} holds", e.key, Describe(e.value));
        return false;
      }
    }
  }
  if (const Node* params = block.Find("queryParams"); params && params->IsMapping()) {
    auto query = request.QueryParams();
    for (const MapEntry& e : params->entries()) {
      auto it =
          std::find_if(query.begin(), query.end(), [&](const auto& q) { return q.first == e.key; });
      bool ok =
          it != query.end() && (IsPresenceOnly(e.value) || StringMatches(e.value, it->second));
      if (!ok) {
        why = fmt::format("query parameter {} does not match {}", e.key, Describe(e.value));
        return false;
      }
    }
  }
  return true;
}

}  // namespace meshfed
