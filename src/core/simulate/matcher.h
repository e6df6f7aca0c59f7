// Envoy's evaluation of the runtime conditions of one VirtualService match block, as Istio
// translates them (TranslateRouteMatch, pilot/pkg/networking/core/route/route.go; semantics in
// istio-semantics.md §3.5): conditions inside a block are ANDed; string matches are exact,
// prefix, or RE2 regex with a full match.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/model/node.h"
#include "core/model/text.h"
#include "core/simulate/request.h"

namespace re2 {
class RE2;
}

namespace meshfed {

class Matcher {
 public:
  Matcher();
  ~Matcher();
  Matcher(const Matcher&) = delete;
  Matcher& operator=(const Matcher&) = delete;

  // True when every runtime condition of `block` holds for `request`. On false, `why` names the
  // first condition that failed (for the trace).
  bool Matches(const Node& block, const Request& request, std::string& why);

  // An Istio StringMatch ({exact|prefix|regex: ...}) against a value. `ignore_case` applies to
  // exact and prefix only, as Envoy's case_sensitive: false does.
  bool StringMatches(const Node& match, std::string_view value, bool ignore_case = false);

  // RE2 full match; an invalid pattern matches nothing (validation reports it).
  bool FullMatch(std::string_view pattern, std::string_view value);
  // Envoy regex_rewrite: every match of `pattern` in `value` replaced by `substitution` (\1...).
  std::string RegexReplace(std::string_view pattern, std::string_view substitution,
                           std::string value);

 private:
  const re2::RE2* Compile(std::string_view pattern);
  std::unordered_map<std::string, std::unique_ptr<re2::RE2>, TextHash, std::equal_to<>> cache_;
};

}  // namespace meshfed
