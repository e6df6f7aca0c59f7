// One HTTP request to simulate, as the client application sends it.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/model/diagnostic.h"

namespace meshfed {

struct Request {
  std::string scheme = "http";
  std::string host;  // from the URL: what DNS resolves
  int port = 80;
  std::string authority;  // the Host / :authority header as sent (URL host[:port] unless -H Host)
  std::string method = "GET";
  std::string path = "/";  // without the query string
  std::string query;       // without '?'
  // Header names lower-cased; several values of one name are kept in order (Envoy joins them with
  // ',' for matching).
  std::vector<std::pair<std::string, std::string>> headers;

  std::optional<std::string> Header(std::string_view name) const;  // joined values
  void SetHeader(std::string_view name, std::string value);
  void AddHeader(std::string_view name, std::string value);
  void RemoveHeader(std::string_view name);
  // Query parameters in order ("a=1&b" -> {a,1},{b,""}).
  std::vector<std::pair<std::string, std::string>> QueryParams() const;
};

// Parses "http://reviews:9080/reviews/0?x=1". Errors name what is wrong.
std::optional<Request> ParseRequest(const std::string& url, const std::string& method,
                                    const std::vector<std::string>& headers, std::string& error);

// Where the port of an authority ("host:port", "[v6]:port") starts: its ':', or npos when it has
// none. A ':' inside an IPv6 literal's brackets is not one.
size_t PortSeparator(std::string_view authority);

// RFC 3986 remove_dot_segments: Istio's default path normalization (BASE) before route matching.
std::string NormalizePath(std::string_view path);

}  // namespace meshfed
