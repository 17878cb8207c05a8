// fuzz_live_wire: the live-v1 decoder (docs/live-v1.md). Input: the topic, a newline, the body.
// decode() must accept or refuse with a reason, never crash or throw; an accepted engine input is
// submitted to the engine, which must take it (whatever its values) and run on.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hardware-in-loop/wire.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace planttwin;
  fuzz::Fixture& f = fuzz::fixture();
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const std::size_t nl = all.find('\n');
  const std::string_view topic = nl == std::string_view::npos ? all : all.substr(0, nl);
  const std::string_view body = nl == std::string_view::npos ? std::string_view{} : all.substr(nl + 1);
  hil::DecodeContext ctx;
  ctx.engine = f.engine.get();
  ctx.site = f.site.get();
  ctx.start_unix_ms = 1'800'000'000'000;
  hil::Decoded out;
  hil::DecodeError err;
  if (!hil::decode(topic, body, ctx, out, err)) {
    if (err.reason.empty()) fuzz::broken("refused without a reason");
    return 0;
  }
  if (out.topic == hil::Topic::range || out.topic == hil::Topic::tdoa || out.topic == hil::Topic::mark) return 0;
  if (!f.engine->restore(f.initial)) fuzz::broken("the engine refused its own initial state");
  out.input.t = kSecond;
  f.engine->submit(out.input);
  f.engine->advance_to(5 * kSecond);
  return 0;
}
