// The park-platform options `live` and `run` share (docs/uplink.md, docs/platform.md): --uplink and
// its profile, credentials, headers, CA, outbox and codes, and --platform-verdict, which puts the
// platform's verdict into the report (report.json, report.md, report.html).
#pragma once
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "hardware-in-loop/uplink_args.h"
#include "scenarios/runner.h"

namespace planttwin::cli {

struct UplinkCli {
  hil::UplinkArgs args;          // what the session or run gets (position_every once checked)
  std::string position_every;    // --uplink-position-every as given ("" the default, 30 s)
  std::string platform_verdict;  // http://HOST:PORT/verdict of `planttwin platform`, or its --verdict file
  bool given() const { return !args.url.empty(); }
};

// Registers --uplink, --uplink-ca, --uplink-header, --uplink-header-file, --uplink-profile,
// --uplink-credentials, --uplink-outbox, --uplink-company-code, --uplink-company-name,
// --uplink-park-code, --uplink-position-every and --platform-verdict on `cmd`.
void add_uplink_options(CLI::App* cmd, UplinkCli& a);

// Checks the options and sets args.position_every. Refused (exit 2; said on stderr prefixed with
// `command`, naming the option; false): an --uplink-* option without --uplink (it would be
// ignored), and an --uplink-position-every that is not a duration from 1 s to 1 h. Beyond the 30 s
// PL-11 allows, it is taken (to rehearse a platform's lateness check) and said once.
bool check_uplink_options(const std::string& command, UplinkCli& a);

// --platform-verdict: the park platform's verdict (PL-11, SO-09) as a section of report.json,
// report.md and report.html in `report` (docs/platform.md "An acceptance day"). false after saying
// why on stderr (prefixed with `command`).
bool add_platform_verdict(const std::string& command, const std::string& report, const std::string& source, const RunResult& r);

}  // namespace planttwin::cli
