// "off_cpu": time threads spend switched out, charged to the stack they
// switched out with.
#include "one_collect/export/export_settings.h"
#include "one_collect/export/scenario_registry.h"

OC_EXPORT_SCENARIO(off_cpu, "context switches: wait time per switch-out stack") {
  settings.enable_context_switches(true);
  settings.enable_callstacks(true);
  return ok_status();
}
