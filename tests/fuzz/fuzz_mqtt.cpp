// fuzz_mqtt: MQTT payloads through a vendor profile (docs/mqtt.md), and profile files themselves.
// The first byte chooses: 0..2 a bundled profile (pozyx, nooploop, generic) and the rest is a
// payload: convert() must turn it into live-v1 messages (fix, sos, tag_status with a JSON body) or
// reject parts with a reason, never throw or crash; 3: the rest is a profile file, which must load
// or be refused with "file:line: key".
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "hardware-in-loop/mqtt/profile.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace planttwin;
  using namespace planttwin::hil::mqtt;
  if (size < 1) return 0;
  static const std::vector<Profile> profiles = [] {
    std::vector<Profile> v;
    for (const char* name : {"pozyx", "nooploop", "generic"}) {
      Profile p;
      std::string error;
      if (!load_profile(name, p, error)) fuzz::broken("a bundled profile does not load");
      v.push_back(p);
    }
    return v;
  }();
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const unsigned mode = data[0] % 4;
  if (mode == 3) {
    Profile p;
    std::string error;
    if (!parse_profile(std::string(rest), "fuzz-profile.yaml", p, error) && error.empty()) fuzz::broken("refused without an error");
    return 0;
  }
  std::vector<Converted> out;
  std::vector<Rejected> rejected;
  std::size_t no_position = 0;
  convert(profiles[mode], rest, 1'800'000'000'000, out, rejected, no_position);
  for (const Converted& c : out) {
    if (c.topic != "fix" && c.topic != "sos" && c.topic != "tag_status") fuzz::broken("a message on an unexpected topic");
    if (!nlohmann::json::accept(c.body)) fuzz::broken("a converted body that is not JSON");
  }
  for (const Rejected& r : rejected)
    if (r.reason.empty()) fuzz::broken("a rejection without a reason");
  return 0;
}
