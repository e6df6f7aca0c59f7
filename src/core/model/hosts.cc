#include "core/model/hosts.h"

#include <arpa/inet.h>
#include <fmt/format.h>

namespace meshfed {

bool IsIpAddress(std::string_view s) {
  // inet_pton reads up to the first NUL. An IPv4 address has dots, an IPv6 one colons: a host
  // name without either (most short names) is answered without a copy.
  size_t end = 0;
  bool separator = false;
  for (; end < s.size() && s[end] != '\0'; ++end) {
    separator = separator || s[end] == '.' || s[end] == ':';
  }
  if (!separator) return false;
  std::string copy(s.substr(0, end));
  unsigned char buf[16];
  return inet_pton(AF_INET, copy.c_str(), buf) == 1 || inet_pton(AF_INET6, copy.c_str(), buf) == 1;
}

std::string ResolveShortName(std::string_view host, std::string_view config_namespace,
                             std::string_view domain_suffix) {
  if (host == "*" || host.find('.') != std::string_view::npos || IsIpAddress(host)) {
    return std::string(host);
  }
  return ServiceFqdn(host, config_namespace, domain_suffix);
}

std::string ServiceFqdn(std::string_view name, std::string_view namespace_,
                        std::string_view domain_suffix) {
  // Appended, not formatted: translating the large fleet asks for a few hundred thousand.
  std::string fqdn;
  fqdn.reserve(name.size() + namespace_.size() + domain_suffix.size() + 6);
  fqdn.append(name).append(".").append(namespace_).append(".svc.").append(domain_suffix);
  return fqdn;
}

std::string ResolveGatewayReference(std::string_view ref, std::string_view vs_namespace) {
  if (ref == "mesh") return "mesh";
  if (ref.substr(0, 2) == "./") return fmt::format("{}/{}", vs_namespace, ref.substr(2));
  if (ref.find('/') != std::string_view::npos) return std::string(ref);
  size_t dot = ref.find('.');
  if (dot == std::string_view::npos) return fmt::format("{}/{}", vs_namespace, ref);
  size_t dot2 = ref.find('.', dot + 1);
  return fmt::format(
      "{}/{}", ref.substr(dot + 1, dot2 == std::string_view::npos ? ref.npos : dot2 - dot - 1),
      ref.substr(0, dot));
}

bool HostsOverlap(std::string_view a, std::string_view b) {
  if (a == b || a == "*" || b == "*") return true;
  auto covers = [](std::string_view wild, std::string_view other) {
    if (wild.empty() || wild.front() != '*') return false;
    std::string_view suffix = wild.substr(1);
    if (!other.empty() && other.front() == '*') {
      std::string_view osuffix = other.substr(1);
      return osuffix.size() >= suffix.size() &&
             osuffix.substr(osuffix.size() - suffix.size()) == suffix;
    }
    return other.size() > suffix.size() && other.substr(other.size() - suffix.size()) == suffix;
  };
  return covers(a, b) || covers(b, a);
}

bool IsDns1123Label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && !(c == '-' && i > 0 && i + 1 < s.size())) return false;
  }
  return true;
}

bool IsDns1123Subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (!IsDns1123Label(label)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

}  // namespace meshfed
