#include "apps/uplink_options.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "scenarios/report.h"
#include "scenarios/report_html.h"
#ifdef PLANTTWIN_HAS_PLATFORM
#include "hardware-in-loop/uplink/platform.h"
#endif

namespace planttwin::cli {

namespace fs = std::filesystem;

void add_uplink_options(CLI::App* cmd, UplinkCli& a) {
  cmd->add_option("--uplink", a.args.url, "Park-platform uplink URL: http://... or https://... (TLS, server verified)");
  cmd->add_option("--uplink-ca", a.args.ca_file, "Uplink https: PEM file of the CAs to trust instead of the system's")->check(CLI::ExistingFile);
  cmd->add_option("--uplink-header", a.args.headers, "Uplink: an extra request header 'Name: value' (repeatable), e.g. 'Authorization: Bearer ...'");
  cmd->add_option("--uplink-header-file", a.args.header_file, "Uplink: extra headers from a file, one 'Name: value' a line (keeps tokens off the command line)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--uplink-profile", a.args.profile,
                  "Uplink: the park platform's profile, aq3064-sm4, plain or a YAML file (paths, field map, AES/SM4 envelope, signature, ack codes; docs/platform.md)");
  cmd->add_option("--uplink-credentials", a.args.credentials, "Uplink profile: YAML file with app_id and app_secret")->check(CLI::ExistingFile);
  cmd->add_option("--platform-verdict", a.platform_verdict,
                  "With --report: add the park platform's verdict (PL-11, SO-09) to the report: http://HOST:PORT/verdict of planttwin platform, or its --verdict file");
  cmd->add_option("--uplink-outbox", a.args.outbox, "Uplink store-and-forward outbox file");
  cmd->add_option("--uplink-company-code", a.args.company_code, "Uplink: the enterprise's code (COMPANYCODE)");
  cmd->add_option("--uplink-company-name", a.args.company_name, "Uplink: the enterprise's name");
  cmd->add_option("--uplink-park-code", a.args.park_code, "Uplink: the chemical park's code");
  cmd->add_option("--uplink-position-every", a.position_every,
                  "Uplink: engine time between position batches, 1s to 1h (default 30s, the most PL-11 allows)");
  cmd->add_option("--uplink-max-batch-records", a.args.max_batch_records,
                  "Uplink: records per batch at most, 1 to 100000 (default 1000); more (5,000 people's positions) go as several batches")
      ->check(CLI::Range(1, 100000));
}

bool check_uplink_options(const std::string& command, UplinkCli& a) {
  if (!a.given()) {
    const hil::UplinkArgs& u = a.args;
    const std::pair<const char*, bool> given[] = {
        {"--uplink-ca", !u.ca_file.empty()},          {"--uplink-header", !u.headers.empty()},
        {"--uplink-header-file", !u.header_file.empty()}, {"--uplink-profile", !u.profile.empty()},
        {"--uplink-credentials", !u.credentials.empty()}, {"--uplink-outbox", !u.outbox.empty()},
        {"--uplink-company-code", !u.company_code.empty()}, {"--uplink-company-name", !u.company_name.empty()},
        {"--uplink-park-code", !u.park_code.empty()},     {"--uplink-position-every", !a.position_every.empty()},
        {"--uplink-max-batch-records", a.args.max_batch_records != hil::UplinkArgs{}.max_batch_records}};
    for (const auto& [opt, is_given] : given)
      if (is_given) {
        std::cerr << "planttwin " << command << ": " << opt << " 需要 --uplink needs --uplink URL (without it nothing is sent)\n";
        return false;
      }
    return true;
  }
  if (!a.position_every.empty()) {
    Micros every = 0;
    if (!parse_duration(a.position_every, every) || every < kSecond || every > 60 * kMinute) {
      std::cerr << "planttwin " << command << ": --uplink-position-every " << a.position_every
                << ": 应为 1s 至 1h 的时长 must be a duration from 1s to 1h (e.g. 10s, 30s)\n";
      return false;
    }
    if (every > 30 * kSecond)
      std::cerr << "planttwin " << command << ": --uplink-position-every " << a.position_every
                << ": 超过 PL-11 要求的 30 s，平台将判定位置上报迟到 beyond the 30 s PL-11 allows: the platform will find the positions late\n";
    a.args.position_every = every;
  }
  return true;
}

bool add_platform_verdict(const std::string& command, const std::string& report, const std::string& source, const RunResult& r) {
#ifdef PLANTTWIN_HAS_PLATFORM
  nlohmann::ordered_json section;
  std::string md, err;
  if (!uplink::platform_report_section(source, r.permits, section, md, err)) {
    std::cerr << "planttwin " << command << ": --platform-verdict: " << err << "\n";
    return false;
  }
  auto read = [](const std::string& file) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  const std::string json_file = (fs::path(report) / "report.json").string(), md_file = (fs::path(report) / "report.md").string(),
                    html_file = (fs::path(report) / "report.html").string();
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(read(json_file), nullptr, false);
  if (j.is_discarded()) {
    std::cerr << json_file << ": cannot read the report back\n";
    return false;
  }
  j["platform"] = section;
  // report.html: the same verdict as a section before the provenance
  std::string page = read(html_file);
  if (!add_html_section(page, {"platform", "园区平台", "Park platform", platform_section_html(section)}, err)) {
    std::cerr << html_file << ": " << err << "\n";
    return false;
  }
  if (!write_text_file(json_file, j.dump(2) + "\n", err) || !write_text_file(md_file, read(md_file) + md, err) || !write_text_file(html_file, page, err)) {
    std::cerr << err << "\n";
    return false;
  }
  return true;
#else
  (void)report, (void)source, (void)r;
  std::cerr << "planttwin " << command << ": --platform-verdict: this build has no park-platform uplink\n";
  return false;
#endif
}

}  // namespace planttwin::cli
