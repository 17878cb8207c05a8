// `planttwin platform`: a mock park platform for acceptance days and tests (docs/platform.md). It
// takes the uplink's requests as the profile describes them: checks the credentials and the
// signature, opens the envelope, de-duplicates on the profile's batch key, validates every record
// against the profile's rules (required fields, code lists, coordinate ranges, the PL-11 position
// cadence per person, the SO-09 permit statuses), stores what arrived (SQLite, in the store
// folder), and answers in the profile's acknowledgement format. GET / is a bilingual page of what
// arrived, late or malformed; GET /verdict is the JSON verdict (PL-11, SO-09); GET /batches lists
// the stored batches.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/permits.h"
#include "hardware-in-loop/uplink/profile.h"

namespace planttwin::uplink {

struct PlatformOptions {
  std::string listen = "127.0.0.1:0";  // HOST:PORT (port 0: pick one)
  std::string store_dir = "platform-store";  // platform.sqlite in it (created); what an earlier run stored counts
  std::string tls_cert, tls_key;        // PEM files: serve https
  // Faults for tests and drills, counted over batch requests that pass the credentials:
  int fail_first = 0;    // answer the first N with the profile's "busy" code (HTTP 503 without codes)
  int lose_answers = 0;  // store the first N new batches, then close the connection without answering
};

class MockPlatform {
 public:
  // Binds the port and opens the store; throws std::runtime_error with a clear message.
  MockPlatform(UplinkProfile profile, PlatformCredentials credentials, PlatformOptions opt);
  ~MockPlatform();
  MockPlatform(const MockPlatform&) = delete;
  MockPlatform& operator=(const MockPlatform&) = delete;
  unsigned short port() const;
  // Serves until stop() (from any thread or a signal handler's thread).
  void run();
  void stop();
  nlohmann::ordered_json verdict() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The platform's verdict for a session's report (live --platform-verdict): read from `source`
// (http://HOST:PORT/verdict of a running `planttwin platform`, or a file of its --verdict), and
// checked against the session's own permits (SO-09: each permit signed in the session arrived
// signed, each accepted arrived accepted). Fills the report.json section and a report.md section
// (Chinese and English). false with a message when the verdict cannot be read.
bool platform_report_section(const std::string& source, const std::vector<PermitRecord>& permits, nlohmann::ordered_json& section,
                             std::string& markdown, std::string& error);

}  // namespace planttwin::uplink
