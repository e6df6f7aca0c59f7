// libyaml against libfyaml (Debian 12's only other full YAML parser) over the same bytes: each
// parser's events for every file of a fleet, each scalar's text fetched as a reader must, no
// tree built. Built only where libfyaml is installed (`apt-get install libfyaml-dev`); meshfed
// itself does not use libfyaml. docs/performance-history.md, "What limited it after the fifth
// session".
//   meshfed_bench_yaml_parsers FLEET
#include <fmt/format.h>
#include <libfyaml.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "codec/yaml_reader.h"

namespace {

using Clock = std::chrono::steady_clock;

size_t FyamlEvents(const std::string& content) {
  fy_parse_cfg cfg{};
  cfg.flags = FYPCF_QUIET;
  fy_parser* parser = fy_parser_create(&cfg);
  if (!parser) return 0;
  size_t events = 0;
  if (fy_parser_set_string(parser, content.data(), content.size()) == 0) {
    while (fy_event* event = fy_parser_parse(parser)) {
      ++events;
      if (event->type == FYET_SCALAR) {
        size_t length = 0;
        (void)fy_token_get_text(event->scalar.value, &length);
      }
      fy_parser_event_free(parser, event);
    }
  }
  fy_parser_destroy(parser);
  return events;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: meshfed_bench_yaml_parsers FLEET\n";
    return 2;
  }
  std::vector<std::string> contents;
  size_t bytes = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(argv[1])) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    contents.push_back(ss.str());
    bytes += contents.back().size();
  }
  auto t0 = Clock::now();
  size_t libyaml = 0;
  for (const std::string& c : contents) libyaml += meshfed::CountYamlEvents(c);
  auto t1 = Clock::now();
  size_t libfyaml = 0;
  for (const std::string& c : contents) libfyaml += FyamlEvents(c);
  auto t2 = Clock::now();
  std::cout << fmt::format(
      "{}: {:.1f} MiB | libyaml {} events in {:.3f} s | libfyaml {} events in {:.3f} s\n", argv[1],
      static_cast<double>(bytes) / (1 << 20), libyaml,
      std::chrono::duration<double>(t1 - t0).count(), libfyaml,
      std::chrono::duration<double>(t2 - t1).count());
  return 0;
}
