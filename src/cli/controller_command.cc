#include "cli/controller_command.h"

#include <fmt/format.h>
#include <httplib.h>

#include <csignal>
#include <ostream>
#include <thread>

#include "adapters/kube/controller.h"
#include "adapters/kube/live_fleet.h"
#include "core/model/text.h"

namespace meshfed {

void AddControllerCommand(CLI::App& app, ControllerCommandOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "controller", "Keep every member cluster in sync through the Kubernetes API, until stopped");
  cmd->add_option("--fleet-context", options.fleet_context,
                  "kubeconfig context of the cluster that holds the MeshClusters "
                  "(\"in-cluster\" for the pod's service account)")
      ->required();
  cmd->add_option("--kubeconfig", options.kubeconfig,
                  "kubeconfig file(s) with every member cluster's context, ':'-separated "
                  "(default: $KUBECONFIG or ~/.kube/config)");
  cmd->add_option("--metrics-addr", options.metrics_addr,
                  "Where /metrics, /healthz and /readyz are served (HOST:PORT; empty: nowhere)");
  cmd->add_option("--leader-elect", options.leader_elect,
                  "Hold a Lease so that only one replica writes (default true)");
  cmd->add_option("--lease-namespace", options.lease_namespace, "Namespace of the Lease");
  cmd->add_option("--lease-name", options.lease_name, "Name of the Lease");
  cmd->add_option("--identity", options.identity, "This replica's name (default: host-pid)");
  cmd->add_option("--debounce-ms", options.debounce_ms,
                  "Quiet period before a reconcile, in milliseconds")
      ->check(CLI::Range(0, 60'000));
}

int RunController(const ControllerCommandOptions& options, std::ostream&, std::ostream& err) {
  // Signals are taken by sigwait below: block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  kube::ControllerOptions o;
  o.fleet_context = options.fleet_context;
  o.resolve = kube::KubeconfigResolver(options.kubeconfig);
  o.leader_election = options.leader_elect;
  o.lease_namespace = options.lease_namespace;
  o.lease_name = options.lease_name;
  o.identity = options.identity;
  o.debounce = std::chrono::milliseconds(options.debounce_ms);
  o.client_options.qps = 0;  // rely on API priority and fairness (controller-runtime's default)
  kube::Controller controller(o);
  if (absl::Status s = controller.Start(); !s.ok()) {
    err << "meshfed controller: " << s.message() << '\n';
    return 1;
  }

  httplib::Server http;
  std::thread http_thread;
  if (!options.metrics_addr.empty()) {
    size_t colon = options.metrics_addr.rfind(':');
    std::string host =
        colon == std::string::npos ? "0.0.0.0" : options.metrics_addr.substr(0, colon);
    if (host.empty()) host = "0.0.0.0";
    int port = ParseIntOr(
        colon == std::string::npos ? options.metrics_addr : options.metrics_addr.substr(colon + 1),
        -1);
    if (port < 0 || port > 65535) {
      err << fmt::format("meshfed controller: --metrics-addr `{}` is not HOST:PORT\n",
                         options.metrics_addr);
      controller.Stop();
      return 2;
    }
    http.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
      res.set_content(controller.Metrics(), "text/plain; version=0.0.4");
    });
    http.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ok\n", "text/plain");
    });
    http.Get("/readyz", [&](const httplib::Request&, httplib::Response& res) {
      bool ready = controller.ready();
      res.status = ready ? 200 : 503;
      res.set_content(ready ? "ok\n" : "informers not synced\n", "text/plain");
    });
    if (!http.bind_to_port(host, port)) {
      err << fmt::format("meshfed controller: cannot listen on {}\n", options.metrics_addr);
      controller.Stop();
      return 1;
    }
    http_thread = std::thread([&] { http.listen_after_bind(); });
  }

  int signal = 0;
  sigwait(&signals, &signal);
  controller.Stop();
  http.stop();
  if (http_thread.joinable()) http_thread.join();
  return 0;
}

}  // namespace meshfed
