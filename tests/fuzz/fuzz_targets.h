// Fuzz targets, shared by the libFuzzer binaries (clang, MESHFED_FUZZ=ON) and by the corpus
// replay test that runs in every build. Each must never crash, leak or hit UB on any input.
#pragma once

#include <cstddef>
#include <cstdint>

namespace meshfed::fuzz {

// YAML/JSON reader (as a .yaml and as a .json file); when a document reads, it must emit and
// read back to the same tree.
void YamlReader(const uint8_t* data, size_t size);

// The whole render pipeline over one cluster's objects: reader, envelope, typed views, fleet
// snapshot, schema/webhook validation and fleet analysis, translator, emitters.
void Fleet(const uint8_t* data, size_t size);

// The simulator's request parsing, then a simulation over the bundled step-3 fleet. Input lines:
// URL, method, then headers.
void Request(const uint8_t* data, size_t size);

}  // namespace meshfed::fuzz
