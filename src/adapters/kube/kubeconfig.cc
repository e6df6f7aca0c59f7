#include "adapters/kube/kubeconfig.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "codec/yaml_reader.h"
#include "core/model/text.h"

namespace meshfed::kube {
namespace {

namespace fs = std::filesystem;

absl::StatusOr<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(fmt::format("cannot read {}", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One named entry of `clusters`, `users` or `contexts`, with the directory of its file.
struct Entry {
  const Node* body = nullptr;
  std::string dir;
  std::string file;
};

const Node* Get(const Node* map, std::string_view key) {
  return map && map->IsMapping() ? map->Find(key) : nullptr;
}

std::string Resolve(std::string_view path, const std::string& dir) {
  if (path.empty() || fs::path(path).is_absolute()) return std::string(path);
  return (fs::path(dir) / path).lexically_normal().string();
}

// `name-data` (base64) or `name` (a file): the PEM text, or an error naming the field.
absl::StatusOr<std::string> DataOrFile(const Node* body, const std::string& key,
                                       const Entry& where) {
  std::string data(ScalarAt(body, key + "-data"));
  if (!data.empty()) {
    std::string decoded;
    if (!absl::Base64Unescape(data, &decoded)) {
      return absl::InvalidArgumentError(
          fmt::format("{}: `{}-data` is not base64", where.file, key));
    }
    return decoded;
  }
  std::string file(ScalarAt(body, key));
  if (file.empty()) return std::string();
  absl::StatusOr<std::string> text = ReadText(Resolve(file, where.dir));
  if (!text.ok()) {
    return absl::NotFoundError(
        fmt::format("{}: `{}` names {}, which cannot be read", where.file, key, file));
  }
  return *text;
}

struct Merged {
  std::map<std::string, Entry> clusters, users, contexts;
  std::string current_context;
  std::vector<ReadResult> documents;  // owns the trees the entries point into
};

absl::StatusOr<Merged> Merge(const std::vector<std::string>& paths) {
  Merged m;
  m.documents.reserve(paths.size());
  for (const std::string& path : paths) {
    std::error_code ec;
    if (!fs::exists(path, ec)) continue;  // client-go skips missing files
    absl::StatusOr<std::string> text = ReadText(path);
    if (!text.ok()) return text.status();
    m.documents.push_back(ReadYamlStream(*text, path));
    const ReadResult& r = m.documents.back();
    if (!r.diagnostics.empty()) {
      return absl::InvalidArgumentError(
          fmt::format("kubeconfig {}", r.diagnostics.front().Format()));
    }
    if (r.documents.empty()) continue;
    const Node& root = r.documents.front();
    std::string dir = fs::path(path).parent_path().string();
    if (m.current_context.empty()) m.current_context = ScalarAt(&root, "current-context");
    auto add = [&](const char* list, const char* body_key, std::map<std::string, Entry>& into) {
      const Node* items = Get(&root, list);
      if (!items || !items->IsSequence()) return;
      for (const Node& item : items->items()) {
        std::string name(ScalarAt(&item, "name"));
        if (!name.empty() && !into.count(name)) into[name] = Entry{Get(&item, body_key), dir, path};
      }
    };
    add("clusters", "cluster", m.clusters);
    add("users", "user", m.users);
    add("contexts", "context", m.contexts);
  }
  return m;
}

}  // namespace

std::string RestConfig::Describe() const {
  std::string auth = "no credentials";
  if (exec) {
    auth = fmt::format("exec plugin {}", exec->command);
  } else if (!client_cert_pem.empty()) {
    auth = "client certificate";
  } else if (!token.empty() || !token_file.empty()) {
    auth = "bearer token";
  }
  return fmt::format("context {}: {} ({}{})", context, server, auth,
                     insecure_skip_tls_verify ? ", TLS verification OFF" : "");
}

std::vector<std::string> KubeconfigPaths(const char* kubeconfig_env, const char* home_env) {
  std::vector<std::string> out;
  std::string list = kubeconfig_env ? kubeconfig_env : "";
  size_t start = 0;
  while (start <= list.size() && !list.empty()) {
    size_t colon = list.find(':', start);
    std::string part = list.substr(start, colon == std::string::npos ? list.npos : colon - start);
    if (!part.empty()) out.push_back(part);
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (out.empty() && home_env && *home_env) {
    out.push_back((fs::path(home_env) / ".kube" / "config").string());
  }
  return out;
}

std::vector<std::string> KubeconfigContexts(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  absl::StatusOr<Merged> m = Merge(paths);
  if (!m.ok()) return out;
  for (const auto& [name, entry] : m->contexts) out.push_back(name);
  return out;
}

absl::StatusOr<RestConfig> LoadKubeconfig(const std::vector<std::string>& paths,
                                          const std::string& context) {
  absl::StatusOr<Merged> merged = Merge(paths);
  if (!merged.ok()) return merged.status();
  const Merged& m = *merged;
  std::string name = context.empty() ? m.current_context : context;
  if (name.empty()) {
    return absl::NotFoundError(fmt::format(
        "no context given and no current-context in the kubeconfig ({})", fmt::join(paths, ":")));
  }
  auto ctx = m.contexts.find(name);
  if (ctx == m.contexts.end()) {
    std::vector<std::string> names;
    for (const auto& [n, e] : m.contexts) names.push_back(n);
    return absl::NotFoundError(fmt::format(
        "no context `{}` in the kubeconfig ({}); contexts: {}", name, fmt::join(paths, ":"),
        names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))));
  }
  RestConfig c;
  c.context = name;
  c.namespace_ = ScalarAt(ctx->second.body, "namespace");
  std::string cluster_name(ScalarAt(ctx->second.body, "cluster"));
  auto cluster = m.clusters.find(cluster_name);
  if (cluster == m.clusters.end()) {
    return absl::NotFoundError(
        fmt::format("{}: context `{}` names cluster `{}`, which is not defined", ctx->second.file,
                    name, cluster_name));
  }
  const Node* cb = cluster->second.body;
  c.server = ScalarAt(cb, "server");
  if (c.server.empty()) {
    return absl::InvalidArgumentError(
        fmt::format("{}: cluster `{}` has no server", cluster->second.file, cluster_name));
  }
  c.insecure_skip_tls_verify = ScalarAt(cb, "insecure-skip-tls-verify") == "true";
  c.tls_server_name = ScalarAt(cb, "tls-server-name");
  absl::StatusOr<std::string> ca = DataOrFile(cb, "certificate-authority", cluster->second);
  if (!ca.ok()) return ca.status();
  c.ca_pem = *ca;

  std::string user_name(ScalarAt(ctx->second.body, "user"));
  auto user = m.users.find(user_name);
  if (user == m.users.end()) {
    if (!user_name.empty()) {
      return absl::NotFoundError(
          fmt::format("{}: context `{}` names user `{}`, which is not defined", ctx->second.file,
                      name, user_name));
    }
    return c;
  }
  const Node* ub = user->second.body;
  absl::StatusOr<std::string> cert = DataOrFile(ub, "client-certificate", user->second);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = DataOrFile(ub, "client-key", user->second);
  if (!key.ok()) return key.status();
  c.client_cert_pem = *cert;
  c.client_key_pem = *key;
  if (c.client_cert_pem.empty() != c.client_key_pem.empty()) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: user `{}` has a client certificate without a key, or a key without a certificate",
        user->second.file, user_name));
  }
  c.token = ScalarAt(ub, "token");
  c.token_file = Resolve(ScalarAt(ub, "tokenFile"), user->second.dir);
  if (const Node* exec = Get(ub, "exec"); exec && exec->IsMapping()) {
    ExecPlugin plugin;
    plugin.api_version = ScalarAt(exec, "apiVersion");
    plugin.command = ScalarAt(exec, "command");
    if (plugin.command.empty()) {
      return absl::InvalidArgumentError(fmt::format(
          "{}: user `{}` has an exec plugin without a command", user->second.file, user_name));
    }
    // A relative command with a slash resolves against the kubeconfig's directory (client-go).
    if (plugin.command.find('/') != std::string::npos) {
      plugin.command = Resolve(plugin.command, user->second.dir);
    }
    if (const Node* args = Get(exec, "args"); args && args->IsSequence()) {
      for (const Node& a : args->items()) plugin.args.emplace_back(ScalarText(&a));
    }
    if (const Node* env = Get(exec, "env"); env && env->IsSequence()) {
      for (const Node& e : env->items())
        plugin.env.emplace_back(ScalarAt(&e, "name"), ScalarAt(&e, "value"));
    }
    plugin.provide_cluster_info = ScalarAt(exec, "provideClusterInfo") == "true";
    c.exec = std::move(plugin);
  }
  return c;
}

absl::StatusOr<RestConfig> InClusterConfig(const std::string& account_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port) {
    return absl::FailedPreconditionError(
        "not running in a cluster (KUBERNETES_SERVICE_HOST/PORT are not set)");
  }
  RestConfig c;
  c.context = "in-cluster";
  std::string h = host;
  c.server = h.find(':') != std::string::npos ? fmt::format("https://[{}]:{}", h, port)
                                              : fmt::format("https://{}:{}", h, port);
  c.token_file = (fs::path(account_dir) / "token").string();
  absl::StatusOr<std::string> ca = ReadText((fs::path(account_dir) / "ca.crt").string());
  if (!ca.ok()) return ca.status();
  c.ca_pem = *ca;
  if (absl::StatusOr<std::string> ns = ReadText((fs::path(account_dir) / "namespace").string());
      ns.ok()) {
    c.namespace_ = *ns;
  }
  return c;
}

}  // namespace meshfed::kube
