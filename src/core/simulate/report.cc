#include "core/simulate/report.h"

#include <fmt/format.h>

#include <algorithm>

namespace meshfed {
namespace {

Node DestinationNode(const Destination& d, double probability) {
  Node n = Node::Mapping();
  n.Add("cluster", Node::String(d.cluster));
  n.Add("host", Node::String(d.host));
  n.Add("subset", Node::String(d.subset));
  n.Add("port", Node::Int(d.port));
  Node workloads = Node::Sequence();
  for (const std::string& w : d.workloads) workloads.Append(Node::String(w));
  n.Add("workloads", std::move(workloads));
  n.Add("probability", Node::Plain(fmt::format("{:.6g}", probability)));
  n.Add("envoyCluster", Node::String(d.envoy_cluster));
  return n;
}

Node HopsNode(const std::vector<Hop>& hops) {
  Node list = Node::Sequence();
  for (const Hop& h : hops) {
    Node n = Node::Mapping();
    n.Add("cluster", Node::String(h.cluster));
    n.Add("proxy", Node::String(h.proxy));
    n.Add("step", Node::String(h.step));
    n.Add("detail", Node::String(h.detail));
    if (!h.object.empty()) {
      n.Add("object", Node::String(h.object));
      n.Add("source", Node::String(h.position.line ? fmt::format("{}:{}:{}", h.file,
                                                                 h.position.line, h.position.column)
                                                   : std::string(h.file)));
    }
    list.Append(std::move(n));
  }
  return list;
}

std::string Percent(double p) { return fmt::format("{:.4g}%", p * 100); }

std::string Landing(const Outcome& o) {
  if (o.destination) {
    const Destination& d = *o.destination;
    if (d.cluster.empty()) return fmt::format("{} (outside the fleet)", d.host);
    return fmt::format(
        "{} {} {}{} port {} -> {}", o.status, d.cluster, d.host,
        d.subset.empty() ? "" : " subset " + d.subset, d.port,
        d.workloads.empty() ? "(no workloads)" : fmt::format("{}", fmt::join(d.workloads, ", ")));
  }
  if (o.status == 0) return fmt::format("{} ({})", o.message, o.flag);
  return fmt::format("{}{}: {}", o.status, o.flag.empty() ? "" : " " + o.flag, o.message);
}

}  // namespace

std::vector<DestinationShare> Destinations(const Simulation& simulation) {
  std::vector<DestinationShare> out;
  for (const Outcome& o : simulation.outcomes) {
    if (!o.destination) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](const DestinationShare& s) {
      return s.destination.cluster == o.destination->cluster &&
             s.destination.host == o.destination->host &&
             s.destination.subset == o.destination->subset &&
             s.destination.port == o.destination->port;
    });
    if (it == out.end()) {
      out.push_back(DestinationShare{*o.destination, o.probability});
    } else {
      it->probability += o.probability;
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const DestinationShare& a, const DestinationShare& b) {
                     return a.probability > b.probability;
                   });
  return out;
}

const Outcome& MainOutcome(const Simulation& simulation) {
  static const Outcome kNone{1.0, 0, "NONE", "no outcome", {}, std::nullopt};
  const Outcome* best = nullptr;
  for (const Outcome& o : simulation.outcomes) {
    if (!best || o.probability > best->probability) best = &o;
  }
  return best ? *best : kNone;
}

Node SimulationToNode(const SimulateInput& input, const Simulation& simulation) {
  Node root = Node::Mapping();
  Node request = Node::Mapping();
  request.Add("from", Node::String(fmt::format("{}/{}/{}", input.cluster, input.namespace_,
                                               input.workload)));
  request.Add("method", Node::String(input.request.method));
  request.Add("url",
              Node::String(fmt::format(
                  "{}://{}{}{}", input.request.scheme, input.request.authority, input.request.path,
                  input.request.query.empty() ? "" : "?" + input.request.query)));
  Node headers = Node::Mapping();
  for (const auto& [k, v] : input.request.headers) headers.Add(k, Node::String(v));
  request.Add("headers", std::move(headers));
  root.Add("request", std::move(request));
  const Outcome& main = MainOutcome(simulation);
  root.Add("status", Node::Int(main.status));
  if (!main.flag.empty()) root.Add("flag", Node::String(main.flag));
  root.Add("message", Node::String(main.message));
  root.Add("hops", HopsNode(main.hops));
  Node destinations = Node::Sequence();
  for (const DestinationShare& d : Destinations(simulation)) {
    destinations.Append(DestinationNode(d.destination, d.probability));
  }
  root.Add("destinations", std::move(destinations));
  Node outcomes = Node::Sequence();
  for (const Outcome& o : simulation.outcomes) {
    Node n = Node::Mapping();
    n.Add("probability", Node::Plain(fmt::format("{:.6g}", o.probability)));
    n.Add("status", Node::Int(o.status));
    if (!o.flag.empty()) n.Add("flag", Node::String(o.flag));
    n.Add("message", Node::String(o.message));
    if (o.destination) n.Add("destination", DestinationNode(*o.destination, o.probability));
    n.Add("hops", HopsNode(o.hops));
    outcomes.Append(std::move(n));
  }
  root.Add("outcomes", std::move(outcomes));
  return root;
}

std::string SimulationToTable(const SimulateInput& input, const Simulation& simulation) {
  std::string out = fmt::format("{} {}://{}{}{} from {}/{}/{}", input.request.method,
                                input.request.scheme, input.request.authority, input.request.path,
                                input.request.query.empty() ? "" : "?" + input.request.query,
                                input.cluster, input.namespace_, input.workload);
  for (const auto& [k, v] : input.request.headers) out += fmt::format(" [{}: {}]", k, v);
  out += '\n';
  for (const Outcome& o : simulation.outcomes) {
    out += fmt::format("\n{} of requests: {}\n", Percent(o.probability), Landing(o));
    int i = 0;
    for (const Hop& h : o.hops) {
      out += fmt::format("  {:>2}. [{}] {} | {}: {}", ++i, h.cluster, h.proxy, h.step, h.detail);
      if (!h.object.empty()) {
        out += fmt::format("\n      by {}", h.object);
        if (!h.file.empty())
          out += fmt::format(
              " ({}{})", h.file,
              h.position.line ? fmt::format(":{}:{}", h.position.line, h.position.column) : "");
      }
      out += '\n';
    }
  }
  return out;
}

std::string Summary(const Simulation& simulation) {
  std::vector<std::string> parts;
  for (const DestinationShare& d : Destinations(simulation)) {
    std::string what = d.destination.subset.empty() ? d.destination.host : d.destination.subset;
    std::string part = fmt::format("{} in {} ({})", what, d.destination.cluster,
                                   fmt::join(d.destination.workloads, ", "));
    if (d.probability < 0.99999) part = fmt::format("{} {}", Percent(d.probability), part);
    parts.push_back(part);
  }
  for (const Outcome& o : simulation.outcomes) {
    if (o.destination) continue;
    std::string part = o.status ? fmt::format("{} {}", o.status, o.flag) : o.message;
    if (o.probability < 0.99999) part = fmt::format("{} {}", Percent(o.probability), part);
    parts.push_back(part);
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

}  // namespace meshfed
