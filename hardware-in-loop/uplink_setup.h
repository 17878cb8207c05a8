// The park-platform uplink as the commands set it up (docs/uplink.md, docs/platform.md): from the
// options `live` and `run` share (--uplink URL, --uplink-profile, --uplink-credentials, headers,
// CA, outbox, company and park codes) to a running Uplink for a scenario, and a headless run's
// observer that feeds it (a live session feeds it in live.cpp). Outputs go through
// Uplink::on_output, which sends alarm events, gatherings and permit status changes.
#pragma once
#ifdef PLANTTWIN_HAS_UPLINK
#include <memory>
#include <string>
#include <vector>

#include "hardware-in-loop/uplink/uplink.h"
#include "hardware-in-loop/uplink_args.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"

namespace planttwin::hil {

// The uplink for `sc` (its people's names, categories, companies and roles go with their records).
// false with `error` naming the option (and file:line for a header file) when an option is bad.
bool make_uplink(const Scenario& sc, const UplinkArgs& a, std::unique_ptr<Uplink>& out, std::string& error);

// A headless run feeding the uplink (`run --uplink`): every fix the engine is given, every output,
// and a tick at each engine time reached (position batches on the profile's schedule of engine time).
class UplinkRunObserver final : public RunObserver {
 public:
  explicit UplinkRunObserver(Uplink& up) : up_(up) {}
  void fix(Micros t, const std::string& person, const std::string& tag, const FixInput& f, const std::string& floor) override {
    up_.on_fix(t, person, tag, f.x, f.y, f.z, floor);
  }
  void output(const Engine& engine, const Output& out) override { up_.on_output(engine, out); }
  void advanced(Micros now) override { up_.tick(now); }

 private:
  Uplink& up_;
};

}  // namespace planttwin::hil
#endif
