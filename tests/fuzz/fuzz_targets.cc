#include "fuzz/fuzz_targets.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <string_view>

#include "adapters/fleet_dir_store.h"
#include "codec/block_yaml_reader.h"
#include "codec/emitter.h"
#include "codec/json_reader.h"
#include "codec/yaml_reader.h"
#include "core/simulate/report.h"
#include "core/simulate/simulator.h"
#include "core/translate/translator.h"
#include "core/validate/validate.h"

namespace meshfed::fuzz {
namespace {

ReadLimits SmallLimits() {
  ReadLimits limits;
  limits.max_bytes = 1 << 20;
  limits.max_nodes = 200000;
  return limits;
}

// A copy of `n` that shares no value with it or with anything else.
Node Unshared(const Node& n) {
  if (n.IsSequence()) {
    Node copy = Node::Sequence(n.position());
    for (const Node& item : n.items()) copy.Append(Unshared(item));
    return copy;
  }
  if (n.IsMapping()) {
    Node copy = Node::Mapping(n.position());
    for (const MapEntry& e : n.entries()) copy.Add(e.key, Unshared(e.value));
    return copy;
  }
  return n;
}

// What ReadJson leaves out with JsonOptions::drop_managed_fields.
void DropManagedFields(Node& n) {
  if (n.IsSequence()) {
    for (Node& item : n.items()) DropManagedFields(item);
  }
  if (!n.IsMapping()) return;
  for (MapEntry& e : n.entries()) {
    if (e.key == "metadata" && e.value.IsMapping()) {
      while (e.value.Find("managedFields")) e.value.Erase("managedFields");
    }
    DropManagedFields(e.value);
  }
}

[[noreturn]] void Die(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n%s\n", what, detail.c_str());
  std::abort();
}

constexpr const char* kFleet = R"(
apiVersion: multicluster.istio.io/v1alpha1
kind: MeshCluster
metadata: {name: cluster-a}
spec: {trustDomain: cluster-a.local, federationGateway: {addresses: [192.0.2.10]}}
---
apiVersion: multicluster.istio.io/v1alpha1
kind: MeshCluster
metadata: {name: cluster-b}
spec: {trustDomain: cluster-b.local, federationGateway: {addresses: [gw.example.com]}}
)";

// The longest key as JSON writes it (quoted, escaped): what YAML's implicit-key limit counts.
size_t LongestJsonKey(const Node& n) {
  size_t longest = 0;
  for (const Node& item : n.items()) longest = std::max(longest, LongestJsonKey(item));
  for (const MapEntry& e : n.entries()) {
    std::string key;
    EmitJson(Node::String(e.key.str()), key, -1);
    longest = std::max({longest, key.size(), LongestJsonKey(e.value)});
  }
  return longest;
}

// The same JSON value read by the two readers: numbers compare by value (the JSON reader
// writes a float's shortest text), everything else exactly.
bool SameJsonValue(const Node& a, const Node& b) {
  if (a.kind() != b.kind()) return false;
  if (a.IsScalar()) {
    ScalarType ta = a.scalar_type(), tb = b.scalar_type();
    if (ta != tb) return false;
    if (ta == ScalarType::Float || ta == ScalarType::Int) {
      return std::strtod(std::string(a.text()).c_str(), nullptr) ==
             std::strtod(std::string(b.text()).c_str(), nullptr);
    }
    return a.text() == b.text();
  }
  if (a.items().size() != b.items().size() || a.entries().size() != b.entries().size()) {
    return false;
  }
  for (size_t i = 0; i < a.items().size(); ++i) {
    if (!SameJsonValue(a.items()[i], b.items()[i])) return false;
  }
  for (size_t i = 0; i < a.entries().size(); ++i) {
    if (a.entries()[i].key != b.entries()[i].key ||
        !SameJsonValue(a.entries()[i].value, b.entries()[i].value)) {
      return false;
    }
  }
  return true;
}

// The same tree with the same positions (of values and of keys) and the same scalar styles.
bool SamePositioned(const Node& a, const Node& b) {
  if (!(a == b) || a.position().line != b.position().line ||
      a.position().column != b.position().column || a.style() != b.style()) {
    return false;
  }
  for (size_t i = 0; i < a.items().size(); ++i) {
    if (!SamePositioned(a.items()[i], b.items()[i])) return false;
  }
  for (size_t i = 0; i < a.entries().size(); ++i) {
    const MapEntry &x = a.entries()[i], &y = b.entries()[i];
    if (x.key_position.line != y.key_position.line ||
        x.key_position.column != y.key_position.column || !SamePositioned(x.value, y.value)) {
      return false;
    }
  }
  return true;
}

}  // namespace

void YamlReader(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // Valid JSON is read with simdjson first: it must give what libyaml's road gives, positions
  // included, and only where that road reports nothing.
  if (std::optional<ReadResult> fast = ReadJsonDocument(text, SmallLimits())) {
    for (const char* file : {"fuzz.yaml", "fuzz.json"}) {
      ReadResult slow = ReadYamlEvents(text, file, SmallLimits());
      if (!slow.diagnostics.empty()) {
        Die("simdjson read a file that the YAML reader reports on", slow.diagnostics[0].Format());
      }
      if (fast->documents.size() != 1 || slow.documents.size() != 1 ||
          !SamePositioned(fast->documents[0], slow.documents[0])) {
        std::string a, b;
        EmitYaml(fast->documents.at(0), a);
        if (!slow.documents.empty()) EmitYaml(slow.documents[0], b);
        Die("simdjson and the YAML reader read a JSON file differently", a + "---\n" + b);
      }
    }
  }
  // Plain block YAML takes its own road too (ReadBlockYaml), held to the same.
  if (std::optional<ReadResult> block = ReadBlockYaml(text, SmallLimits())) {
    ReadResult slow = ReadYamlEvents(text, "fuzz.yaml", SmallLimits());
    if (!slow.diagnostics.empty()) {
      Die("the block reader read a file that the YAML reader reports on",
          slow.diagnostics[0].Format());
    }
    bool same = block->documents.size() == slow.documents.size();
    for (size_t i = 0; same && i < slow.documents.size(); ++i) {
      same = SamePositioned(block->documents[i], slow.documents[i]);
    }
    if (!same) {
      Die("the block reader and the YAML reader read a file differently",
          EmitYamlStream(block->documents) + "...\n" + EmitYamlStream(slow.documents));
    }
  }
  // As a .json file too: the JSON strictness check (comments, trailing commas) runs first.
  ReadResult as_json = ReadYamlStream(text, "fuzz.json", SmallLimits());
  // The JSON reader (API answers) must agree with it on what both read.
  Node answer;
  std::string error;
  bool answered = ReadJson(text, answer, error);
  if (answered && as_json.diagnostics.empty() && as_json.documents.size() == 1 &&
      !SameJsonValue(answer, as_json.documents[0])) {
    std::string a, b;
    EmitYaml(answer, a);
    EmitYaml(as_json.documents[0], b);
    Die("the JSON reader and the YAML reader disagree", a + "---\n" + b);
  }
  // Leaving out managedFields (API answers) reads the same, less every metadata's managedFields.
  Node trimmed;
  std::string trimmed_error;
  if (ReadJson(text, trimmed, trimmed_error, JsonOptions{.drop_managed_fields = true}) !=
      answered) {
    Die("leaving out managedFields changed whether the JSON reads", std::string(text));
  }
  if (answered) {
    DropManagedFields(answer);
    if (!(answer == trimmed)) {
      std::string a, b;
      EmitYaml(answer, a);
      EmitYaml(trimmed, b);
      Die("leaving out managedFields left out something else", a + "---\n" + b);
    }
  }
  ReadResult r = ReadYamlStream(text, "fuzz.yaml", SmallLimits());
  if (!r.diagnostics.empty()) return;
  for (const Node& doc : r.documents) {
    std::string yaml;
    EmitYaml(doc, yaml);
    ReadResult again = ReadYamlStream(yaml, "again.yaml", SmallLimits());
    if (!again.diagnostics.empty()) Die("emitted YAML does not read back", yaml);
    Node back = again.documents.empty() ? Node() : again.documents[0];
    if (!(back == doc)) Die("emitted YAML reads back differently", yaml);
    // A key of 1,024 characters or more, as written (quoted and escaped), cannot be an implicit
    // key in YAML (the spec's limit, which libyaml enforces in flow mappings): such JSON files
    // are rejected (docs/fuzzing.md).
    if (LongestJsonKey(doc) >= 1000) continue;
    std::string json;
    EmitJson(doc, json);
    ReadResult from_json = ReadYamlStream(json, "again.json", SmallLimits());
    if (!from_json.diagnostics.empty()) Die("emitted JSON does not read back", json);
  }
}

void Fleet(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Diagnostics diagnostics;
  FleetSource source;
  uint64_t order = 0;
  ReadResult fleet = ReadYamlStream(kFleet, "fleet.yaml");
  AppendObjects(std::move(fleet.documents), "fleet.yaml", order, source.mesh_clusters, diagnostics);
  // The same bytes as the donor's and the acceptor's objects.
  for (const char* cluster : {"cluster-a", "cluster-b"}) {
    ReadResult r = ReadYamlStream(text, "fuzz.yaml", SmallLimits());
    AppendObjects(std::move(r.documents), "fuzz.yaml", order, source.cluster_objects[cluster],
                  diagnostics);
  }
  FleetSource registry_only;
  registry_only.mesh_clusters = source.mesh_clusters;
  meshfed::Fleet snapshot = BuildFleet(std::move(source), diagnostics);
  // Every check `validate` runs; the translator runs even when they find errors (the commands
  // stop there, but the translator must not depend on that for its safety).
  ValidateObjects(snapshot, diagnostics);
  Translation t = Translate(snapshot);
  // The incremental translator, fed the same objects one at a time from an empty fleet, ends
  // where the whole translation is.
  {
    Diagnostics ignored;
    IncrementalTranslator engine(BuildFleet(std::move(registry_only), ignored));
    for (const Cluster& c : snapshot.clusters) {
      for (const Object& o : c.objects) engine.Apply({{c.name, o, false}}, ignored);
    }
    Translation got = engine.Current();
    bool same =
        got.clusters.size() == t.clusters.size() && got.statuses.size() == t.statuses.size();
    for (size_t i = 0; same && i < t.clusters.size(); ++i) {
      same = got.clusters[i].objects == t.clusters[i].objects;
    }
    for (size_t i = 0; same && i < t.statuses.size(); ++i) {
      same = got.statuses[i].object == t.statuses[i].object;
    }
    if (!same) Die("the incremental translation differs from the whole one", std::string(text));
  }
  AnalyzeFleet(snapshot, t, diagnostics);
  SortDiagnostics(diagnostics);
  for (const Diagnostic& d : diagnostics) (void)d.Format();
  // What generated objects share (Node::Share) is written once and then copied: the text must be
  // that of objects that each hold their own copy.
  for (const ClusterOutput& c : t.clusters) {
    std::vector<Node> copies;
    for (const Node& o : c.objects) copies.push_back(Unshared(o));
    std::string yaml = EmitYamlStream(c.objects);
    if (yaml != EmitYamlStream(copies)) Die("shared values are written unlike their copies", yaml);
    // Handed over in pieces (as render writes), a piece every few documents: the same text.
    std::string pieces;
    EmitYamlStream(
        c.objects, [&pieces](std::string_view p) { pieces += p; }, 512);
    if (pieces != yaml) Die("the YAML stream in pieces differs from the whole", yaml);
    Node list = Node::Sequence(), list_of_copies = Node::Sequence();
    list.items() = c.objects;
    list_of_copies.items() = std::move(copies);
    std::string json, json_of_copies;
    EmitJson(list, json);
    EmitJson(list_of_copies, json_of_copies);
    if (json != json_of_copies) Die("shared values are written unlike their copies", json);
    // A List in pieces (render --output json) is the text of the whole List.
    Node whole = Node::Mapping();
    whole.Add("apiVersion", Node::String("v1"));
    whole.Add("kind", Node::String("List"));
    whole.Add("items", std::move(list));
    std::string whole_json;
    EmitJson(whole, whole_json);
    whole_json += '\n';
    std::string json_pieces;
    EmitJsonList(
        c.objects, [&json_pieces](std::string_view p) { json_pieces += p; }, 512);
    if (json_pieces != whole_json) Die("the JSON List in pieces differs from the whole", json);
  }
  for (const StatusOutput& s : t.statuses) {
    std::string out;
    EmitJson(s.object, out);
  }
  // Simulate a few requests over whatever the input configured: from each Deployment to each
  // Service name (bounded), and check the outcomes' probabilities add up to 1.
  meshfed::Fleet effective = EffectiveFleet(snapshot, t);
  int budget = 24;
  for (const Cluster& c : effective.clusters) {
    for (const Deployment& from : c.deployments) {
      for (const Service& to : c.services) {
        if (budget-- <= 0) return;
        std::string error;
        int port = to.ports.empty() ? 80 : to.ports[0].port;
        auto request = ParseRequest(
            fmt::format("http://{}.{}:{}/p?q=1", to.object->name, to.object->namespace_, port),
            "GET", {"end-user: jason"}, error);
        if (!request) continue;
        SimulateInput input{c.name, from.object->namespace_, from.object->name, *request};
        Simulation sim;
        if (!Simulate(effective, input, sim, error)) continue;
        double total = 0;
        for (const Outcome& o : sim.outcomes) total += o.probability;
        if (sim.outcomes.empty() || !(total > 0.999999 && total < 1.000001)) {
          Die("outcome probabilities do not add up to 1", SimulationToTable(input, sim));
        }
      }
    }
  }
}

void Request(const uint8_t* data, size_t size) {
  // Built once: an immutable snapshot shared by every input.
  static const meshfed::Fleet* fleet = [] {
    Diagnostics d;
    auto loaded = LoadFleet(std::string(MESHFED_SOURCE_DIR) + "/examples/bookinfo/step3", d);
    if (!loaded.ok()) std::abort();
    Translation t = Translate(*loaded);
    return new meshfed::Fleet(EffectiveFleet(*loaded, t));
  }();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size() && lines.size() < 64) {
    size_t nl = text.find('\n', start);
    lines.emplace_back(
        text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  if (lines.size() < 2) return;
  std::string error;
  std::vector<std::string> headers(lines.begin() + 2, lines.end());
  auto request = ParseRequest(lines[0], lines[1], headers, error);
  if (!request) return;
  for (const char* from : {"cluster-a", "cluster-c"}) {
    SimulateInput input{from, "default", "productpage-v1", *request};
    Simulation sim;
    if (!Simulate(*fleet, input, sim, error)) std::abort();
    double total = 0;
    for (const Outcome& o : sim.outcomes) total += o.probability;
    if (sim.outcomes.empty() || total < 0.999999 || total > 1.000001) {
      Die("outcome probabilities do not add up to 1", SimulationToTable(input, sim));
    }
    (void)SimulationToNode(input, sim);
  }
}

}  // namespace meshfed::fuzz
