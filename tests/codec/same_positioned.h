// Two readings of one file compared: the same values, scalar styles and line:column of every
// value and key (the fast readers are held to libyaml's road with it).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "codec/yaml_reader.h"
#include "core/model/node.h"

namespace meshfed {

inline void ExpectSamePositioned(const Node& a, const Node& b, const std::string& where) {
  ASSERT_EQ(a, b) << where;
  EXPECT_EQ(a.position().line, b.position().line) << where;
  EXPECT_EQ(a.position().column, b.position().column) << where;
  EXPECT_EQ(a.style(), b.style()) << where;
  for (size_t i = 0; i < a.items().size(); ++i) {
    ExpectSamePositioned(a.items()[i], b.items()[i], where + "[" + std::to_string(i) + "]");
  }
  for (size_t i = 0; i < a.entries().size(); ++i) {
    const MapEntry &x = a.entries()[i], &y = b.entries()[i];
    EXPECT_EQ(x.key_position.line, y.key_position.line) << where << "." << x.key;
    EXPECT_EQ(x.key_position.column, y.key_position.column) << where << "." << x.key;
    ExpectSamePositioned(x.value, y.value, where + "." + x.key);
  }
}

// ReadYamlStream (which tries the fast roads first) gives what libyaml's road gives: the same
// diagnostics and documents.
inline void ExpectSameAsLibyamlRoad(const std::string& text, const std::string& file,
                                    const ReadLimits& limits) {
  ReadResult stream = ReadYamlStream(text, file, limits);
  ReadResult events = ReadYamlEvents(text, file, limits);
  ASSERT_EQ(stream.diagnostics.size(), events.diagnostics.size()) << text;
  for (size_t i = 0; i < stream.diagnostics.size(); ++i) {
    EXPECT_EQ(stream.diagnostics[i].Format(), events.diagnostics[i].Format());
  }
  EXPECT_EQ(stream.documents, events.documents) << text;
}

}  // namespace meshfed
