// How to reach a Kubernetes API server: kubeconfig files (client-go's clientcmd rules) and the
// in-cluster service account. Credentials stay in RestConfig and never reach logs: Describe()
// names the server and the kind of credential only.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace meshfed::kube {

// A `users[].user.exec` credential plugin (client.authentication.k8s.io ExecCredential).
struct ExecPlugin {
  std::string api_version;  // client.authentication.k8s.io/v1 or v1beta1
  std::string command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  bool provide_cluster_info = false;
};

struct RestConfig {
  std::string context;     // the kubeconfig context, or "in-cluster"
  std::string server;      // https://host:port (or http:// for tests)
  std::string namespace_;  // the context's namespace, if any
  // Server verification: PEM bundle (from certificate-authority or -data); empty = system roots.
  std::string ca_pem;
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;
  // Client credentials: PEM certificate and key, a bearer token (or a file re-read when it
  // rotates, as projected service-account tokens do), or an exec plugin.
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string token;
  std::string token_file;
  std::optional<ExecPlugin> exec;

  // "context cluster-b: https://10.0.0.1:6443 (client certificate)" — no secrets.
  std::string Describe() const;
};

// KUBECONFIG as client-go reads it: a list of files separated by ':' (empty -> ~/.kube/config).
std::vector<std::string> KubeconfigPaths(const char* kubeconfig_env, const char* home_env);

// Loads the merged kubeconfig from `paths` (missing files are skipped, as client-go does; a file
// that exists but cannot be read or parsed is an error naming it) and resolves `context` (empty:
// current-context). Relative file references resolve against the file that names them; for
// maps, the first file to define a name wins.
absl::StatusOr<RestConfig> LoadKubeconfig(const std::vector<std::string>& paths,
                                          const std::string& context);

// The in-cluster configuration: KUBERNETES_SERVICE_HOST/PORT and the mounted service account
// (token file, ca.crt, namespace) under `account_dir`.
absl::StatusOr<RestConfig> InClusterConfig(
    const std::string& account_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// Names every context of the merged kubeconfig (for messages).
std::vector<std::string> KubeconfigContexts(const std::vector<std::string>& paths);

}  // namespace meshfed::kube
