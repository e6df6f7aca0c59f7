// The structural layer of Istio's CRDs (manifests/charts/base/files/crd-all.gen.yaml, generated
// from istio/api): field names, types, enums, required fields and one-ofs, for the Istio kinds
// meshfed reads. The API server applies this layer before any webhook, and kubectl's default
// strict field validation turns unknown fields into errors, so meshfed reports them the same way.
#pragma once

#include <string>

#include "core/model/diagnostic.h"
#include "core/model/object.h"

namespace meshfed {

// True when meshfed knows the schema of this kind (VirtualService, DestinationRule, ServiceEntry,
// Gateway in networking.istio.io; AuthorizationPolicy in security.istio.io).
bool HasIstioSchema(const Object& o);

// Checks `o` against its kind's schema: MF1010 wrong type, MF1011 missing required field, MF1012
// unknown field, MF1013 a value outside an enum, a range, or not a valid duration.
void CheckIstioSchema(const Object& o, const std::string& cluster, Diagnostics& diagnostics);

// Go's time.ParseDuration syntax ("1.5s", "300ms", "1h2m"); the value in seconds.
bool ParseGoDuration(std::string_view text, double& seconds);

}  // namespace meshfed
