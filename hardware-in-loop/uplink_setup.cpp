#include "hardware-in-loop/uplink_setup.h"

#ifdef PLANTTWIN_HAS_UPLINK
#include <fstream>
#include <stdexcept>

#include "hardware-in-loop/uplink/http_client.h"

namespace planttwin::hil {

bool make_uplink(const Scenario& sc, const UplinkArgs& a, std::unique_ptr<Uplink>& out, std::string& error) {
  UplinkOptions uo;
  uo.url = a.url;
  if (!a.outbox.empty()) uo.outbox = a.outbox;
  uo.company_code = a.company_code;
  uo.company_name = a.company_name;
  uo.park_code = a.park_code;
  uo.ca_file = a.ca_file;
  uo.position_every = a.position_every;
  uo.max_batch_records = a.max_batch_records;
  for (const PersonDef& p : sc.people) uo.people[p.id] = {p.name, p.category, p.company, p.roles};
  try {
    for (const std::string& h : a.headers) uo.headers.push_back(uplink::parse_http_header(h));
  } catch (const std::exception& e) {
    error = std::string("--uplink-header: ") + e.what();
    return false;
  }
  if (!a.header_file.empty()) {
    std::ifstream in(a.header_file);
    if (!in) {
      error = "--uplink-header-file " + a.header_file + ": cannot read it";
      return false;
    }
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos || line[line.find_first_not_of(" \t")] == '#') continue;
      try {
        uo.headers.push_back(uplink::parse_http_header(line));
      } catch (const std::exception& e) {
        error = a.header_file + ":" + std::to_string(n) + ": " + e.what();
        return false;
      }
    }
  }
  if (!a.profile.empty()) {
    auto prof = std::make_shared<uplink::UplinkProfile>();
    if (!uplink::load_uplink_profile(a.profile, *prof, error)) {
      error = "--uplink-profile: " + error;
      return false;
    }
    if (!a.credentials.empty() && !uplink::load_credentials(a.credentials, uo.credentials, error)) {
      error = "--uplink-credentials: " + error;
      return false;
    }
    if (a.credentials.empty() && (!prof->cipher.empty() || !prof->signature.empty())) {
      error = "--uplink-profile " + prof->name + " encrypts or signs: give --uplink-credentials FILE (app_id, app_secret)";
      return false;
    }
    uo.profile = std::move(prof);
  }
  try {
    out = std::make_unique<Uplink>(sc.site, sc.clock, uo);
  } catch (const std::exception& e) {
    error = std::string("--uplink: ") + e.what();
    return false;
  }
  return true;
}

}  // namespace planttwin::hil
#endif
