// "cpu": on-CPU sampling with callstacks (1000 Hz unless already set).
#include "one_collect/export/export_settings.h"
#include "one_collect/export/scenario_registry.h"

OC_EXPORT_SCENARIO(cpu, "sample running threads with callstacks (CPU time per stack)") {
  settings.enable_cpu_sampling(true);
  settings.enable_callstacks(true);
  return ok_status();
}
