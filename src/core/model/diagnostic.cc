#include "core/model/diagnostic.h"

#include <fmt/format.h>

#include <algorithm>

namespace meshfed {

std::string ObjectRef::Describe() const {
  std::string out = kind;
  if (!name.empty()) {
    out += ' ';
    if (!namespace_.empty()) out += namespace_ + "/";
    out += name;
  }
  if (!cluster.empty()) out += " in " + cluster;
  return out;
}

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::Error:
      return "error";
    case Severity::Warning:
      return "warning";
    case Severity::Info:
      return "info";
  }
  return "error";
}

std::string Diagnostic::Format() const {
  std::string where;
  if (!file.empty()) {
    where = file;
    if (position.line > 0) where += fmt::format(":{}:{}", position.line, position.column);
    where += ": ";
  }
  std::string about;
  if (!object.kind.empty()) about = object.Describe();
  if (!field.empty()) about += (about.empty() ? "" : " ") + std::string("field ") + field;
  return fmt::format("{}{} {}: {}{}{}", where, SeverityName(severity), code,
                     about.empty() ? "" : about + ": ", message, "");
}

bool HasErrors(const Diagnostics& diagnostics) {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::Error; });
}

}  // namespace meshfed
