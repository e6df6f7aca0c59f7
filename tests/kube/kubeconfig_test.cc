#include "adapters/kube/kubeconfig.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace meshfed::kube {
namespace {
namespace fs = std::filesystem;

fs::path Dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / "meshfed-kubeconfig-test" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void Write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

TEST(Kubeconfig, PathsFollowClientGo) {
  EXPECT_EQ(KubeconfigPaths("/a:/b::/c", "/home/u"), (std::vector<std::string>{"/a", "/b", "/c"}));
  EXPECT_EQ(KubeconfigPaths("", "/home/u"), std::vector<std::string>{"/home/u/.kube/config"});
  EXPECT_EQ(KubeconfigPaths(nullptr, "/home/u"), std::vector<std::string>{"/home/u/.kube/config"});
}

TEST(Kubeconfig, MergesFilesFirstDefinitionWins) {
  fs::path d = Dir("merge");
  fs::create_directories(d / "certs");
  Write(d / "certs" / "ca.pem", "CA-FROM-FILE");
  Write(d / "one.yaml", R"(apiVersion: v1
kind: Config
current-context: b
contexts:
- name: b
  context: {cluster: cluster-b, user: admin-b, namespace: mesh}
- name: shadowed
  context: {cluster: first, user: admin-b}
users:
- name: admin-b
  user: {token: first-token}
)");
  Write(d / "two.yaml", R"(apiVersion: v1
kind: Config
current-context: ignored
contexts:
- name: shadowed
  context: {cluster: second, user: nobody}
- name: c
  context: {cluster: cluster-b, user: admin-b}
clusters:
- name: cluster-b
  cluster: {server: "https://10.0.0.2:6443", certificate-authority: certs/ca.pem}
users:
- name: admin-b
  user: {token: second-token}
)");
  std::vector<std::string> paths = {(d / "missing.yaml").string(), (d / "one.yaml").string(),
                                    (d / "two.yaml").string()};
  absl::StatusOr<RestConfig> c = LoadKubeconfig(paths, "");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->context, "b") << "current-context of the first file that sets it";
  EXPECT_EQ(c->server, "https://10.0.0.2:6443");
  EXPECT_EQ(c->ca_pem, "CA-FROM-FILE") << "relative to the file that names it";
  EXPECT_EQ(c->token, "first-token") << "the first file to define a user wins";
  EXPECT_EQ(c->namespace_, "mesh");
  EXPECT_EQ(c->Describe(), "context b: https://10.0.0.2:6443 (bearer token)");
  EXPECT_EQ(c->Describe().find("token\""), std::string::npos);

  absl::StatusOr<RestConfig> missing = LoadKubeconfig(paths, "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("contexts: b, c, shadowed"), std::string::npos)
      << missing.status();
  absl::StatusOr<RestConfig> broken = LoadKubeconfig(paths, "shadowed");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("names cluster `first`, which is not defined"),
            std::string::npos)
      << broken.status();
}

TEST(Kubeconfig, InlineDataAndExecPlugins) {
  fs::path d = Dir("data");
  Write(d / "config", R"(apiVersion: v1
kind: Config
contexts:
- {name: certs, context: {cluster: c, user: certs}}
- {name: exec, context: {cluster: c, user: exec}}
- {name: half, context: {cluster: c, user: half}}
clusters:
- name: c
  cluster: {server: "https://c.example:443", certificate-authority-data: Q0EtUEVN, insecure-skip-tls-verify: false}
users:
- name: certs
  user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZ}
- name: exec
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/get-token
      args: [--cluster, c]
      env: [{name: REGION, value: eu}]
      provideClusterInfo: true
- name: half
  user: {client-certificate-data: Q0VSVA==}
)");
  std::vector<std::string> paths = {(d / "config").string()};
  absl::StatusOr<RestConfig> certs = LoadKubeconfig(paths, "certs");
  ASSERT_TRUE(certs.ok()) << certs.status();
  EXPECT_EQ(certs->ca_pem, "CA-PEM");
  EXPECT_EQ(certs->client_cert_pem, "CERT");
  EXPECT_EQ(certs->client_key_pem, "KEY");
  EXPECT_EQ(certs->Describe(), "context certs: https://c.example:443 (client certificate)");

  absl::StatusOr<RestConfig> exec = LoadKubeconfig(paths, "exec");
  ASSERT_TRUE(exec.ok()) << exec.status();
  ASSERT_TRUE(exec->exec.has_value());
  EXPECT_EQ(exec->exec->command, (d / "bin/get-token").string());
  EXPECT_EQ(exec->exec->args, (std::vector<std::string>{"--cluster", "c"}));
  EXPECT_EQ(exec->exec->env.at(0), (std::pair<std::string, std::string>{"REGION", "eu"}));
  EXPECT_TRUE(exec->exec->provide_cluster_info);

  absl::StatusOr<RestConfig> half = LoadKubeconfig(paths, "half");
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.status().message().find("without a key"), std::string::npos);
}

TEST(Kubeconfig, UnreadableYamlNamesTheFile) {
  fs::path d = Dir("bad");
  Write(d / "config", "clusters: [\n");
  absl::StatusOr<RestConfig> c = LoadKubeconfig({(d / "config").string()}, "x");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find((d / "config").string() + ":"), std::string::npos)
      << c.status();
}

TEST(Kubeconfig, InCluster) {
  fs::path d = Dir("incluster");
  Write(d / "token", "sa-token\n");
  Write(d / "ca.crt", "CLUSTER-CA");
  Write(d / "namespace", "meshfed-system");
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  absl::StatusOr<RestConfig> c = InClusterConfig(d.string());
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->ca_pem, "CLUSTER-CA");
  EXPECT_EQ(c->token_file, (d / "token").string()) << "re-read: projected tokens rotate";
  EXPECT_EQ(c->namespace_, "meshfed-system");
  EXPECT_FALSE(InClusterConfig(d.string()).ok()) << "outside a cluster";
}

}  // namespace
}  // namespace meshfed::kube
