// noop: does nothing; the data passes untouched. Useful to check that a
// client's toxic calls work, and as the template of a new toxic type.
#include "toxics/ToxicChain.h"

namespace faultline {

FAULTLINE_TOXIC_TYPE(NoopToxic) {
  ToxicType type = ToxicType::define("noop", "NoopToxic", "Does nothing: the data passes untouched.");
  return type.stage<ToxicStage>();  // the base stage passes everything on
}

}  // namespace faultline
