// fuzz_omlox: omlox Location objects (docs/omlox.md) as a hub client sends them over WebSocket or
// REST. Input: JSON text. location_to_fix must give a live-v1 fix body or a reason, never throw or
// crash, whatever the types of the fields (a string where a number belongs, arrays, nesting).
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "hardware-in-loop/omlox/omlox_channel.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace planttwin;
  static hil::omlox::GeoToSite geo(*fuzz::fixture().site);
  const nlohmann::json loc = nlohmann::json::parse(data, data + size, nullptr, false);
  if (loc.is_discarded()) return 0;
  std::string body, reason, detail;
  for (const char* provider : {"", "T1"}) {
    if (hil::omlox::location_to_fix(loc, provider, 1'800'000'000'000, geo, body, reason, detail)) {
      if (!nlohmann::json::accept(body)) fuzz::broken("a fix body that is not JSON");
    } else if (reason.empty()) {
      fuzz::broken("refused without a reason");
    }
  }
  return 0;
}
