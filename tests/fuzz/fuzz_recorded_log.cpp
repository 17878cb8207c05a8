// fuzz_recorded_log: the CSV logs of recorded positioning (docs/recorded.md: ranges, tdoa, truth).
// The first byte chooses the kind; the rest is the file's text. Rows that cannot be used are
// skipped and counted; a wrong header is refused with "file:line: field: message"; never a crash.
// The tags and anchors are those of the bundled Hanyang walk LOS B3.
#include <cstddef>
#include <cstdint>
#include <string>

#include "scenarios/recorded_log.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace planttwin;
  if (size < 1) return 0;
  static const char* const kinds[] = {"ranges", "tdoa", "truth"};
  const std::string kind = kinds[data[0] % 3];
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  RecordedLog log;
  std::string error;
  static const Scenario* sc = [] {
    auto* x = new Scenario;
    if (auto err = load_scenario_file(PLANTTWIN_SOURCE_DIR "/scenarios/recorded/hanyang/los-b3/scenario.yaml", *x)) {
      std::fprintf(stderr, "fuzz: %s\n", err->to_string().c_str());
      std::abort();
    }
    return x;
  }();
  if (!parse_recorded_csv(*sc, kind, kind + ".csv", text, log, error) && error.empty())
    fuzz::broken("refused without an error");
  return 0;
}
