#include "core/simulate/request.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "core/model/text.h"

namespace meshfed {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) ||
           std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
  });
}

}  // namespace

std::optional<std::string> Request::Header(std::string_view name) const {
  std::string key = ToLower(name);
  std::optional<std::string> out;
  for (const auto& [k, v] : headers) {
    if (k != key) continue;
    out = out ? *out + "," + v : v;
  }
  return out;
}

void Request::SetHeader(std::string_view name, std::string value) {
  RemoveHeader(name);
  AddHeader(name, std::move(value));
}

void Request::AddHeader(std::string_view name, std::string value) {
  std::string key = ToLower(name);
  if (key == "host" || key == ":authority") {
    authority = std::move(value);
    return;
  }
  headers.emplace_back(std::move(key), std::move(value));
}

void Request::RemoveHeader(std::string_view name) {
  std::string key = ToLower(name);
  headers.erase(
      std::remove_if(headers.begin(), headers.end(), [&](const auto& h) { return h.first == key; }),
      headers.end());
}

std::vector<std::pair<std::string, std::string>> Request::QueryParams() const {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start <= query.size() && !query.empty()) {
    size_t amp = query.find('&', start);
    std::string_view part = std::string_view(query).substr(
        start, amp == std::string::npos ? std::string::npos : amp - start);
    if (!part.empty()) {
      size_t eq = part.find('=');
      out.emplace_back(std::string(part.substr(0, eq)),
                       eq == std::string_view::npos ? "" : std::string(part.substr(eq + 1)));
    }
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  return out;
}

std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> out;
  bool trailing_slash = false;
  size_t i = 0;
  while (i <= path.size()) {
    size_t slash = path.find('/', i);
    std::string_view seg =
        path.substr(i, slash == std::string_view::npos ? std::string_view::npos : slash - i);
    bool last = slash == std::string_view::npos;
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
      trailing_slash = last;
    } else if (seg == ".") {
      trailing_slash = last;
    } else if (!(seg.empty() && i == 0)) {
      out.push_back(seg);
      trailing_slash = false;
    }
    if (last) break;
    i = slash + 1;
  }
  std::string result;
  for (std::string_view s : out) {
    result += '/';
    result += s;
  }
  if (trailing_slash || result.empty()) result += '/';
  return result;
}

size_t PortSeparator(std::string_view authority) {
  size_t colon = authority.rfind(':');
  size_t bracket = authority.rfind(']');
  return colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)
             ? colon
             : std::string_view::npos;
}

std::optional<Request> ParseRequest(const std::string& url, const std::string& method,
                                    const std::vector<std::string>& headers, std::string& error) {
  Request r;
  std::string_view rest = url;
  size_t scheme_end = rest.find("://");
  if (scheme_end == std::string_view::npos) {
    error = fmt::format("`{}` is not a URL: write it as http://host[:port]/path", url);
    return std::nullopt;
  }
  r.scheme = ToLower(rest.substr(0, scheme_end));
  if (r.scheme != "http" && r.scheme != "https") {
    error =
        fmt::format("scheme `{}` is not simulated: use http (sidecars originate mTLS)", r.scheme);
    return std::nullopt;
  }
  rest.remove_prefix(scheme_end + 3);
  size_t path_start = rest.find_first_of("/?");
  std::string_view hostport = rest.substr(0, path_start);
  std::string_view path_query =
      path_start == std::string_view::npos ? "/" : rest.substr(path_start);
  if (hostport.empty() || hostport.find('@') != std::string_view::npos) {
    error = fmt::format("`{}` has no host (user info is not supported)", url);
    return std::nullopt;
  }
  r.port = r.scheme == "https" ? 443 : 80;
  size_t colon = PortSeparator(hostport);
  if (colon != std::string_view::npos) {
    std::string_view digits = hostport.substr(colon + 1);
    int port = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc() || ptr != digits.data() + digits.size() || port < 1 || port > 65535) {
      error = fmt::format("`{}` is not a port number in 1..65535", digits);
      return std::nullopt;
    }
    r.port = port;
    r.host = ToLower(hostport.substr(0, colon));
  } else {
    r.host = ToLower(hostport);
  }
  if (r.host.empty()) {
    error = fmt::format("`{}` has no host", url);
    return std::nullopt;
  }
  r.authority = std::string(hostport);
  if (path_query.front() == '?') {  // r.path keeps its default "/"
    r.query = std::string(path_query.substr(1));
  } else {
    size_t q = path_query.find('?');
    r.path = std::string(path_query.substr(0, q));
    if (q != std::string_view::npos) r.query = std::string(path_query.substr(q + 1));
  }
  r.method = method.empty() ? "GET" : method;
  if (!IsToken(r.method)) {
    error = fmt::format("`{}` is not an HTTP method", r.method);
    return std::nullopt;
  }
  for (const std::string& h : headers) {
    size_t sep = h.find(':', h.empty() || h[0] != ':' ? 0 : 1);
    std::string_view name = Trim(std::string_view(h).substr(0, sep));
    std::string_view bare = !name.empty() && name[0] == ':' ? name.substr(1) : name;
    if (sep == std::string::npos || !IsToken(bare)) {
      error = fmt::format("header `{}` is not `Name: value`", h);
      return std::nullopt;
    }
    r.AddHeader(name, std::string(Trim(std::string_view(h).substr(sep + 1))));
  }
  return r;
}

}  // namespace meshfed
