// Istio's admission-webhook validation (pkg/config/validation: ValidateVirtualService,
// ValidateDestinationRule, ValidateServiceEntry, ValidateGateway, ValidateAuthorizationPolicy),
// with Istio's own message texts so they can be compared with `istioctl validate`.
//
// Codes follow `istioctl analyze`: an error the webhook would reject is IST0106
// (SchemaValidationError), a webhook warning IST0133 (SchemaWarning), an unreachable rule IST0130
// (warning) and an ineffective match IST0131 (info). Each diagnostic also names the field and the
// position the message is about, which Istio does not.
#pragma once

#include <string>

#include "core/model/diagnostic.h"
#include "core/model/object.h"

namespace meshfed {

namespace code {
inline constexpr const char* kIstioSchemaError = "IST0106";
inline constexpr const char* kIstioSchemaWarning = "IST0133";
inline constexpr const char* kUnreachableRule = "IST0130";
inline constexpr const char* kIneffectiveMatch = "IST0131";
}  // namespace code

// Runs the webhook checks for `o` if it is one of the kinds above; other kinds are left alone.
// Values of the wrong type are skipped here (the schema layer reports them).
void CheckIstioRules(const Object& o, const std::string& cluster, Diagnostics& diagnostics);

}  // namespace meshfed
