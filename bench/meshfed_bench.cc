// meshfed's benchmark runner (docs/performance.md). Single-threaded; every figure is printed
// with what it measured. Usage:
//   meshfed_bench render FLEET [--repeat N]      parse / build / translate / emit split, peak RSS
//   meshfed_bench parse FLEET                    reader throughput over the fleet's files, and
//                                                libyaml's events alone over the same bytes (and
//                                                simdjson's parse alone over JSON files)
//   meshfed_bench simulate FLEET [--repeat N]    requests per second over the fleet's bound names
//   meshfed_bench translate FLEET [--repeat N]   the translator alone, best and median
//   meshfed_bench incremental FLEET [--repeat N] one changed SEP, RSB or donor VirtualService at a
//                                                time: re-render and diff, latency percentiles
//   meshfed_bench memory MIB [huge|populate]     the machine's cost of memory touched for the first
//                                                time (page faults), which every tree built pays;
//                                                `huge` populates it in 2 MiB transparent huge
//                                                pages first, as the heap prefault does; `populate`
//                                                in 4 KiB pages, 1 MiB at a time, as it did before
//   (MESHFED_HEAP_PREFAULT=0 in the environment measures without the heap prefault)
//   meshfed_bench trees FLEET                    what the translation's trees are made of
//   meshfed_bench write DIR [--piece KIB]        116 MiB into 21 new files in DIR (as render
//                                                writes the large fleet), in write(2)s of KIB
//                                                (0, the default: one per file); the files are
//                                                removed after
#include <absl/container/flat_hash_set.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <simdjson.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "adapters/fleet_dir_store.h"
#include "adapters/heap_prefault.h"
#include "codec/emitter.h"
#include "codec/yaml_reader.h"
#include "core/model/hosts.h"
#include "core/model/text.h"
#include "core/simulate/report.h"
#include "core/simulate/simulator.h"
#include "core/translate/translator.h"
#include "core/validate/validate.h"

namespace meshfed {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double PeakRssMiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// As `meshfed render` writes, in the same pieces (counted, not written): every cluster's objects,
// then the statuses (moved out of `t`).
size_t EmitAll(Translation& t) {
  size_t bytes = 0;
  auto count = [&bytes](std::string_view piece) { bytes += piece.size(); };
  for (const ClusterOutput& c : t.clusters) EmitYamlStream(c.objects, count);
  std::vector<Node> statuses;
  for (StatusOutput& s : t.statuses) statuses.push_back(std::move(s.object));
  EmitYamlStream(statuses, count);
  return bytes;
}

int Render(const std::string& fleet_dir, int repeat, bool prefault) {
  for (int i = 0; i < repeat; ++i) {
    // The heap after each phase: MiB in use / MiB obtained from the kernel.
    std::string heap;
    auto note_heap = [&heap](const char* phase) {
      HeapUse use = CurrentHeapUse();
      heap += fmt::format("{}{} {:.0f}/{:.0f}", heap.empty() ? "" : ", ", phase,
                          static_cast<double>(use.allocated) / (1 << 20),
                          static_cast<double>(use.obtained) / (1 << 20));
    };
    auto t0 = Clock::now();
    Diagnostics d;
    absl::StatusOr<FleetSource> source = ReadFleetDirectory(fleet_dir, d);
    if (!source.ok()) {
      std::cerr << source.status() << '\n';
      return 1;
    }
    auto t1 = Clock::now();
    double rss_read = PeakRssMiB();
    note_heap("read");
    Fleet fleet = BuildFleet(std::move(*source), d);
    auto t2 = Clock::now();
    note_heap("build");
    // The checks every command runs (CheckFleet): the Istio schema and webhook rules per object,
    // and the fleet analyzers after translation.
    ValidateObjects(fleet, d);
    auto tv = Clock::now();
    Translation t = Translate(fleet);
    auto t3 = Clock::now();
    double rss_translate = PeakRssMiB();
    note_heap("translate");
    AnalyzeFleet(fleet, t, d);
    auto ta = Clock::now();
    size_t bytes = EmitAll(t);
    auto t4 = Clock::now();
    note_heap("emit");
    size_t generated = 0;
    for (const ClusterOutput& c : t.clusters) generated += c.objects.size();
    size_t objects = 0;
    for (const Cluster& c : fleet.clusters) objects += c.objects.size();
    std::cout << fmt::format(
        "render {}: {} objects in, {} generated, {:.1f} MiB out | read+parse {:.3f} s, build "
        "{:.3f} s, validate {:.3f} s, translate {:.3f} s, analyze {:.3f} s, emit {:.3f} s, total "
        "{:.3f} s | translate {:.1f}% of total | peak RSS {:.0f} MiB (after read {:.0f}, after "
        "translate {:.0f}) | heap MiB in use/obtained after {} | {} diagnostics | heap prefault "
        "{}\n",
        fleet_dir, objects, generated, static_cast<double>(bytes) / (1 << 20), Seconds(t0, t1),
        Seconds(t1, t2), Seconds(t2, tv), Seconds(tv, t3), Seconds(t3, ta), Seconds(ta, t4),
        Seconds(t0, t4), 100 * Seconds(tv, t3) / Seconds(t0, t4), PeakRssMiB(), rss_read,
        rss_translate, heap, d.size(), prefault ? "on" : "off");
  }
  return 0;
}

// Translate only, repeated over one loaded fleet (for profiling the translator).
int TranslateOnly(const std::string& fleet_dir, int repeat) {
  Diagnostics d;
  absl::StatusOr<Fleet> fleet = LoadFleet(fleet_dir, d);
  if (!fleet.ok()) return 1;
  std::vector<double> times;
  for (int i = 0; i < repeat; ++i) {
    auto t0 = Clock::now();
    Translation t = Translate(*fleet);
    times.push_back(Seconds(t0, Clock::now()));
  }
  std::sort(times.begin(), times.end());
  std::cout << fmt::format("translate {}: best {:.3f} s, median {:.3f} s over {} runs\n", fleet_dir,
                           times.front(), times[times.size() / 2], times.size());
  return 0;
}

// Requests per second: for each acceptor cluster's bound names (Services meshfed generated),
// GET http://<name>:<port>/ from the cluster's first Deployment in `default`, with and without
// end-user: jason, round robin.
int SimulateBench(const std::string& fleet_dir, int requests) {
  Diagnostics d;
  absl::StatusOr<Fleet> fleet = LoadFleet(fleet_dir, d);
  if (!fleet.ok()) return 1;
  Translation t = Translate(*fleet);
  Fleet effective = EffectiveFleet(*fleet, t);
  std::vector<SimulateInput> inputs;
  for (const Cluster& c : effective.clusters) {
    const Deployment* client = nullptr;
    for (const Deployment& dep : c.deployments) {
      if (dep.object->namespace_ == "default" && !client) client = &dep;
    }
    if (!client) continue;
    for (const Service& s : c.services) {
      if (!s.object->ManagedByMeshfed() || s.ports.empty()) continue;
      for (int jason = 0; jason < 2; ++jason) {
        std::string error;
        auto r = ParseRequest(
            fmt::format("http://{}:{}/", s.object->name, s.ports[0].port), "GET",
            jason ? std::vector<std::string>{"end-user: jason"} : std::vector<std::string>{},
            error);
        inputs.push_back(SimulateInput{c.name, "default", client->object->name, *r});
      }
    }
  }
  if (inputs.empty()) {
    std::cerr << "no bound names to call in " << fleet_dir << '\n';
    return 1;
  }
  size_t ok = 0;
  auto t0 = Clock::now();
  RouteSimulator simulator(effective);
  for (int i = 0; i < requests; ++i) {
    Simulation sim;
    std::string error;
    simulator.Simulate(inputs[static_cast<size_t>(i) % inputs.size()], sim, error);
    ok += MainOutcome(sim).status == 200 ? 1 : 0;
  }
  double s = Seconds(t0, Clock::now());
  std::cout << fmt::format(
      "simulate {}: {} requests over {} distinct ones in {:.3f} s: {:.0f} requests/s "
      "({} answered 200)\n",
      fleet_dir, requests, inputs.size(), s, requests / s, ok);
  return 0;
}

// The first weighted route list of a VirtualService with its first two weights swapped; false if
// it has none.
bool SwapWeights(Node& root) {
  Node* http = root.Find("spec") ? root.Find("spec")->Find("http") : nullptr;
  if (!http || !http->IsSequence()) return false;
  for (Node& rule : http->items()) {
    Node* route = rule.IsMapping() ? rule.Find("route") : nullptr;
    if (!route || !route->IsSequence() || route->items().size() < 2) continue;
    Node* a = route->items()[0].Find("weight");
    Node* b = route->items()[1].Find("weight");
    if (!a || !b || a->text() == b->text()) continue;
    std::swap(*a, *b);
    return true;
  }
  return false;
}

// A variant of an SEP (its first entry exposed to one cluster fewer) or an RSB (its first
// service bound under another local name).
bool Vary(Object& o) {
  Node* spec = o.root.Find("spec");
  if (!spec) return false;
  if (o.kind == "ServiceExpositionPolicy") {
    Node* exposed = spec->Find("exposed");
    if (!exposed || exposed->items().empty()) return false;
    Node* clusters = exposed->items()[0].Find("clusters");
    if (!clusters || clusters->items().size() < 2) return false;
    clusters->items().pop_back();
    return true;
  }
  if (o.kind == "RemoteServiceBinding") {
    Node* remote = spec->Find("remote");
    if (!remote || remote->items().empty()) return false;
    Node* services = remote->items()[0].Find("services");
    if (!services || services->items().empty()) return false;
    Node& svc = services->items()[0];
    svc.Set("alias", Node::String(std::string(ScalarText(svc.Find("name"))) + "-moved"));
    return true;
  }
  return SwapWeights(o.root);
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// One change at a time, as the controller receives them from a watch (already parsed): an SEP,
// an RSB or a donor VirtualService in turn, each switched to a variant and back. Timed: the
// object's validation, the incremental re-translation, and the YAML of what changed.
int IncrementalBench(const std::string& fleet_dir, int changes) {
  Diagnostics d;
  absl::StatusOr<Fleet> fleet = LoadFleet(fleet_dir, d);
  if (!fleet.ok()) return 1;
  // Candidates: every SEP and RSB, and the VirtualServices of exposed hosts that split by weight.
  std::array<std::vector<std::pair<std::string, Object>>, 3> candidates;
  for (const Cluster& c : fleet->clusters) {
    for (const ServiceExpositionPolicy& sep : c.expositions) {
      Object variant = *sep.object;
      if (Vary(variant)) candidates[0].emplace_back(c.name, *sep.object);
      for (const ExposedEntry& e : sep.exposed) {
        for (const VirtualService* vs :
             c.VirtualServicesForHost(ServiceFqdn(e.name, sep.object->namespace_))) {
          Object v = *vs->object;
          if (SwapWeights(v.root)) candidates[2].emplace_back(c.name, *vs->object);
        }
      }
    }
    for (const RemoteServiceBinding& rsb : c.bindings) {
      Object variant = *rsb.object;
      if (Vary(variant)) candidates[1].emplace_back(c.name, *rsb.object);
    }
  }
  if (candidates[0].empty() || candidates[1].empty() || candidates[2].empty()) {
    std::cerr << "the fleet needs SEPs, RSBs and exposed VirtualServices that split by weight\n";
    return 1;
  }
  auto t0 = Clock::now();
  IncrementalTranslator engine(std::move(*fleet));
  double build = Seconds(t0, Clock::now());
  const char* kinds[] = {"ServiceExpositionPolicy", "RemoteServiceBinding", "VirtualService"};
  std::array<std::vector<double>, 3> times;
  std::vector<double> apply_ms;        // without the YAML
  std::map<std::string, bool> varied;  // object -> currently the variant
  std::mt19937 rng(1);
  size_t applied = 0, removed = 0, statuses = 0, units = 0, bytes = 0;
  for (int i = 0; i < changes; ++i) {
    auto& list = candidates[static_cast<size_t>(i) % 3];
    auto& [cluster, original] =
        list[std::uniform_int_distribution<size_t>(0, list.size() - 1)(rng)];
    bool& is_variant = varied[cluster + "/" + original.Key()];
    Object next = original;
    if (!is_variant) Vary(next);
    is_variant = !is_variant;
    std::vector<ObjectChange> change;
    change.push_back({cluster, std::move(next), false});
    auto start = Clock::now();
    Diagnostics found;
    ValidateObject(change.front().object, cluster, found);
    TranslationDelta delta = engine.Apply(std::move(change), found);
    apply_ms.push_back(Seconds(start, Clock::now()) * 1000);
    std::string yaml;  // as EmitYamlStream writes them, without copying the objects first
    auto emit = [&yaml](const Node& o) {
      yaml += "---\n";
      EmitYaml(o, yaml);
    };
    for (const auto& [c, o] : delta.applied) emit(o);
    for (const StatusOutput* s : delta.statuses) emit(s->object);
    bytes += yaml.size();
    times[static_cast<size_t>(i) % 3].push_back(Seconds(start, Clock::now()) * 1000);
    applied += delta.applied.size();
    removed += delta.removed.size();
    statuses += delta.statuses.size();
    units += delta.units;
  }
  std::cout << fmt::format(
      "incremental {}: first translation {:.3f} s; {} changes: {:.1f} units recomputed, {:.1f} "
      "objects applied, {:.1f} removed, {:.1f} statuses and {:.0f} bytes of YAML per change\n",
      fleet_dir, build, changes, static_cast<double>(units) / changes,
      static_cast<double>(applied) / changes, static_cast<double>(removed) / changes,
      static_cast<double>(statuses) / changes, static_cast<double>(bytes) / changes);
  std::vector<double> all;
  for (size_t k = 0; k < 3; ++k) {
    if (times[k].empty()) continue;
    all.insert(all.end(), times[k].begin(), times[k].end());
    std::cout << fmt::format("  {:<24} p50 {:.3f} ms, p99 {:.3f} ms, max {:.3f} ms\n", kinds[k],
                             Percentile(times[k], 0.5), Percentile(times[k], 0.99),
                             Percentile(times[k], 1.0));
  }
  std::cout << fmt::format("  {:<24} p50 {:.3f} ms, p99 {:.3f} ms, max {:.3f} ms\n", "all",
                           Percentile(all, 0.5), Percentile(all, 0.99), Percentile(all, 1.0));
  std::cout << fmt::format("  {:<24} p50 {:.3f} ms, p99 {:.3f} ms, max {:.3f} ms\n",
                           "all, without the YAML", Percentile(apply_ms, 0.5),
                           Percentile(apply_ms, 0.99), Percentile(apply_ms, 1.0));
  return 0;
}

int Parse(const std::string& fleet_dir) {
  size_t bytes = 0, documents = 0;
  std::vector<std::string> contents;
  for (const auto& e : std::filesystem::recursive_directory_iterator(fleet_dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    contents.push_back(ss.str());
  }
  auto t0 = Clock::now();
  for (const std::string& c : contents) {
    ReadResult r = ReadYamlStream(c, "x");
    bytes += c.size();
    for (const Node& doc : r.documents) {
      const Node* items = doc.Find("items");
      documents += items ? items->items().size() : 1;
    }
  }
  double s = Seconds(t0, Clock::now());
  // libyaml's events alone over the same bytes: the floor of any reader built on libyaml.
  auto t1 = Clock::now();
  size_t events = 0;
  for (const std::string& c : contents) events += CountYamlEvents(c);
  double floor = Seconds(t1, Clock::now());
  std::cout << fmt::format(
      "parse {}: {:.1f} MiB, {} objects in {:.3f} s: {:.1f} MiB/s, {:.0f} objects/s | libyaml's "
      "{} events alone (no tree): {:.3f} s\n",
      fleet_dir, static_cast<double>(bytes) / (1 << 20), documents, s,
      static_cast<double>(bytes) / (1 << 20) / s, static_cast<double>(documents) / s, events,
      floor);
  // simdjson's own parse of the JSON files into its tape (no positions, no tree of ours): the
  // floor of reading a JSON fleet by any design on this machine. Padding the input is included.
  simdjson::dom::parser parser;
  size_t json_bytes = 0, json_objects = 0;
  auto t2 = Clock::now();
  for (const std::string& c : contents) {
    if (c.find_first_not_of(" \n") == std::string::npos || c[c.find_first_not_of(" \n")] != '{') {
      continue;
    }
    simdjson::dom::element root;
    if (parser.parse(c).get(root)) continue;
    json_bytes += c.size();
    simdjson::dom::array items;
    json_objects += root["items"].get(items) ? 1 : items.size();
  }
  double json_floor = Seconds(t2, Clock::now());
  if (json_bytes > 0) {
    std::cout << fmt::format(
        "  simdjson's parse alone (its tape, no positions, no tree): {:.1f} MiB, {} objects in "
        "{:.3f} s: {:.1f} MiB/s\n",
        static_cast<double>(json_bytes) / (1 << 20), json_objects, json_floor,
        static_cast<double>(json_bytes) / (1 << 20) / json_floor);
  }
  return 0;
}

// Writing render's output: 116 MiB into 21 new files, in write(2)s of `piece` bytes (0: one per
// file), timed up to the last close. Through write(2), not a stream, so that the pieces are
// exactly these. On this project's VM the size of the writes decides the cost
// (docs/performance-history.md, "Eighth session").
int WriteBench(const std::string& dir, size_t piece) {
  constexpr size_t kTotal = 116u << 20;
  constexpr int kFiles = 21;
  const std::string text(kTotal, 'x');
  const size_t per_file = kTotal / kFiles;
  std::filesystem::create_directories(dir);
  std::vector<std::string> paths;
  auto t0 = Clock::now();
  for (int f = 0; f < kFiles; ++f) {
    paths.push_back(fmt::format("{}/meshfed-write-{}", dir, f));
    int fd = open(paths.back().c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
      std::cerr << paths.back() << ": " << std::strerror(errno) << '\n';
      return 1;
    }
    const char* p = text.data() + static_cast<size_t>(f) * per_file;
    size_t left = per_file;
    while (left > 0) {
      ssize_t n = write(fd, p, piece == 0 ? left : std::min(piece, left));
      if (n <= 0) {
        std::cerr << paths.back() << ": " << std::strerror(errno) << '\n';
        close(fd);
        return 1;
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    close(fd);
  }
  double took = Seconds(t0, Clock::now());
  for (const std::string& path : paths) std::filesystem::remove(path);
  std::cout << fmt::format("write: {} MiB into {} new files in {} in {:.3f} s\n", kTotal >> 20,
                           kFiles,
                           piece == 0 ? std::string("one write(2) per file")
                                      : fmt::format("write(2)s of {} KiB", piece >> 10),
                           took);
  return 0;
}

// Fresh memory: a process that builds 0.9 GiB of trees first touches every page of it, and on a
// VM each page fault is costly. Measured on pages no allocator has seen (mmap), one write each.
// `populate`: populated 1 MiB at a time first, as the heap prefault did until the eleventh
// session. `huge`: as it does now (src/adapters/heap_prefault.cc): in aligned 2 MiB pieces,
// each marked MADV_HUGEPAGE and then populated.
int MemoryBench(size_t mib, bool huge, bool populate) {
  constexpr size_t kHugePage = size_t{2} << 20;
  size_t bytes = mib << 20;
  size_t mapped = bytes + kHugePage;  // room to start at a 2 MiB boundary
  void* map = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) {
    std::cerr << "cannot map " << mib << " MiB\n";
    return 1;
  }
  auto* mem = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(map) + kHugePage - 1) &
                                      ~(kHugePage - 1));
  auto* p = static_cast<volatile char*>(mem);
  auto t0 = Clock::now();
  const size_t piece = huge ? kHugePage : size_t{1} << 20;
  bool advise_huge = huge;  // until the kernel refuses: then populated in 4 KiB pages
  for (size_t at = 0; (huge || populate) && at < bytes; at += piece) {
    size_t length = std::min(piece, bytes - at);
    if (advise_huge && madvise(mem + at, length, MADV_HUGEPAGE) != 0) {
      std::cerr << "madvise(MADV_HUGEPAGE): " << std::strerror(errno) << '\n';
      advise_huge = false;
    }
    if (madvise(mem + at, length, MADV_POPULATE_WRITE) != 0) {
      std::cerr << "madvise(MADV_POPULATE_WRITE): " << std::strerror(errno) << '\n';
      break;
    }
  }
  for (size_t i = 0; i < bytes; i += 4096) p[i] = 1;
  double first = Seconds(t0, Clock::now());
  auto t1 = Clock::now();
  for (size_t i = 0; i < bytes; i += 4096) p[i] = 2;
  double again = Seconds(t1, Clock::now());
  munmap(map, mapped);
  std::cout << fmt::format(
      "memory{}: {} MiB touched for the first time in {:.3f} s ({:.3f} s per GiB); touched "
      "again in {:.3f} s\n",
      huge       ? " (huge pages asked for, populated 2 MiB at a time first)"
      : populate ? " (populated 1 MiB at a time first)"
                 : "",
      mib, first, first * 1024 / static_cast<double>(mib), again);
  return 0;
}

// What the generated objects and statuses are made of: mappings, entries (and the room their
// lists hold), list items, the scalars too long for a node's inline 23 bytes, and the keys on the
// heap (longer than a Key's inline 15 bytes, and not Key::Static).
struct TreeCount {
  size_t mappings = 0, entries = 0, entry_room = 0, lists = 0, items = 0, item_room = 0;
  size_t scalars = 0, long_strings = 0, heap_keys = 0, long_bytes = 0;
  size_t shared = 0,
         references = 0;  // shared values (counted once) and the nodes referring to them
  absl::flat_hash_set<const void*> seen;
  void Add(const Node& n) {
    constexpr size_t kInline = ScalarString::kInPlace;  // longer text is on the heap
    if (n.IsShared()) {
      ++references;
      if (!seen.insert(n.shared_value()).second) return;
      ++shared;
    }
    if (n.IsMapping()) {
      ++mappings;
      entries += n.entries().size();
      entry_room += n.entries().capacity();
      for (const MapEntry& e : n.entries()) {
        if (e.key.OnHeap()) {
          ++heap_keys;
          long_bytes += e.key.size();
        }
        Add(e.value);
      }
    } else if (n.IsSequence()) {
      ++lists;
      items += n.items().size();
      item_room += n.items().capacity();
      for (const Node& item : n.items()) Add(item);
    } else {
      ++scalars;
      if (n.text().size() > kInline) {
        ++long_strings;
        long_bytes += n.text().size();
      }
    }
  }
  std::string Describe() const {
    double mib = static_cast<double>(entry_room * sizeof(MapEntry) + item_room * sizeof(Node) +
                                     long_bytes + shared * (sizeof(Node) + 8)) /
                 (1 << 20);
    return fmt::format(
        "{} mappings, {} entries of {} bytes (room for {}), {} lists, {} items of {} bytes "
        "(room for {}), {} scalars; {} scalars and {} keys on the heap "
        "({:.1f} MiB of text); {} shared values referred to {} times: {:.0f} MiB before the "
        "allocator's rounding",
        mappings, entries, sizeof(MapEntry), entry_room, lists, items, sizeof(Node), item_room,
        scalars, long_strings, heap_keys, static_cast<double>(long_bytes) / (1 << 20), shared,
        references, mib);
  }
};

int TreesBench(const std::string& fleet_dir) {
  Diagnostics d;
  absl::StatusOr<Fleet> fleet = LoadFleet(fleet_dir, d);
  if (!fleet.ok()) return 1;
  double before = PeakRssMiB();
  Translation t = Translate(*fleet);
  double after = PeakRssMiB();
  TreeCount objects, statuses;
  size_t generated = 0;
  for (const ClusterOutput& c : t.clusters) {
    generated += c.objects.size();
    for (const Node& o : c.objects) objects.Add(o);
  }
  for (const StatusOutput& s : t.statuses) statuses.Add(s.object);
  std::cout << fmt::format(
      "trees {}: {} generated objects: {}\n  {} statuses: {}\n  peak RSS {:.0f} MiB before "
      "translating, {:.0f} MiB after\n",
      fleet_dir, generated, objects.Describe(), t.statuses.size(), statuses.Describe(), before,
      after);
  return 0;
}

}  // namespace
}  // namespace meshfed

int main(int argc, char** argv) {
  // As meshfed does (src/cli/main.cc); MESHFED_HEAP_PREFAULT=0 measures without it.
  const bool prefault = meshfed::PrefaultHeapGrowth();
  if (argc < 3) {
    std::cerr << "usage: meshfed_bench render|parse|translate|simulate|incremental FLEET "
                 "[--repeat N] | trees FLEET | memory MIB [huge|populate] | write DIR "
                 "[--piece KIB]\n";
    return 2;
  }
  std::string mode = argv[1];
  std::string fleet = argv[2];
  int repeat = 1;
  size_t piece_kib = 0;
  for (int i = 3; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--repeat") == 0) repeat = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--piece") == 0) piece_kib = std::strtoul(argv[i + 1], nullptr, 10);
  }
  if (mode == "write") return meshfed::WriteBench(fleet, piece_kib << 10);
  if (mode == "memory") {
    return meshfed::MemoryBench(std::max(1, std::atoi(argv[2])),
                                argc > 3 && std::strcmp(argv[3], "huge") == 0,
                                argc > 3 && std::strcmp(argv[3], "populate") == 0);
  }
  if (mode == "trees") return meshfed::TreesBench(fleet);
  if (mode == "render") return meshfed::Render(fleet, repeat, prefault);
  if (mode == "parse") return meshfed::Parse(fleet);
  if (mode == "translate") return meshfed::TranslateOnly(fleet, repeat);
  if (mode == "incremental") return meshfed::IncrementalBench(fleet, repeat > 1 ? repeat : 3000);
  if (mode == "simulate") return meshfed::SimulateBench(fleet, repeat > 1 ? repeat : 20000);
  std::cerr << "unknown mode " << mode << '\n';
  return 2;
}
