// The park-platform options `live` and `run` share (docs/uplink.md, docs/platform.md): --uplink and
// its profile, credentials, headers, CA, outbox and codes, and --platform-verdict, which puts the
// platform's verdict into the report (report.json, report.md, report.html).
#pragma once
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "scenarios/runner.h"

namespace planttwin::cli {

struct UplinkCli {
  std::string url, outbox, company_code, company_name, park_code, ca_file, header_file, profile, credentials;
  std::vector<std::string> headers;
  std::string platform_verdict;  // http://HOST:PORT/verdict of `planttwin platform`, or its --verdict file
  bool given() const { return !url.empty(); }
};

// Registers --uplink, --uplink-ca, --uplink-header, --uplink-header-file, --uplink-profile,
// --uplink-credentials, --uplink-outbox, --uplink-company-code, --uplink-company-name,
// --uplink-park-code and --platform-verdict on `cmd`.
void add_uplink_options(CLI::App* cmd, UplinkCli& a);

// An --uplink-* option without --uplink would be ignored: refused instead (exit 2), naming it, on
// stderr prefixed with `command`. false when refused.
bool check_uplink_options(const std::string& command, const UplinkCli& a);

// --platform-verdict: the park platform's verdict (PL-11, SO-09) as a section of report.json,
// report.md and report.html in `report` (docs/platform.md "An acceptance day"). false after saying
// why on stderr (prefixed with `command`).
bool add_platform_verdict(const std::string& command, const std::string& report, const std::string& source, const RunResult& r);

}  // namespace planttwin::cli
