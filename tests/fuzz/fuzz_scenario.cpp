// fuzz_scenario: the site and scenario loader (scenario-v1, site-v1). Any text must give either a
// scenario or an error naming file, line and field; never a crash. A scenario that loads must also
// build its engine (the model's own checks) without crashing.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace planttwin;
  const std::string text(reinterpret_cast<const char*>(data), size);
  Scenario sc;
  if (auto err = load_scenario_text(text, "fuzz-scenario.yaml", sc)) {
    if (err->to_string().empty()) fuzz::broken("a load error without text");
  } else {
    auto site = std::make_shared<const Site>(sc.site);
    Engine engine(make_engine_setup(sc, site));
    engine.advance_to(10 * kSecond);
  }
  Site site;
  if (auto err = load_site_text(text, "fuzz-site.yaml", site))
    if (err->to_string().empty()) fuzz::broken("a load error without text");
  return 0;
}
