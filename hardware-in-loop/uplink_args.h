// What the park-platform options of `live` and `run` ask for (docs/uplink.md, docs/platform.md):
// plain data, so that a live session's options (live.h) and the command lines (apps/) can hold it in
// builds without the uplink; hardware-in-loop/uplink_setup.h turns it into a running Uplink.
#pragma once
#include <string>
#include <vector>

#include "engine/time.h"

namespace planttwin::hil {

struct UplinkArgs {
  std::string url, outbox;                           // --uplink ("" none), --uplink-outbox ("" the default file)
  std::string company_code, company_name, park_code; // AQ3 App. B COMPANYCODE etc.
  std::string ca_file;                               // --uplink-ca: https CAs to trust instead of the system's (PEM)
  std::vector<std::string> headers;                  // --uplink-header "Name: value", sent with every batch
  std::string header_file;                           // --uplink-header-file: more, one a line (# comments)
  std::string profile;                               // --uplink-profile: bundled name or YAML file; "" the plain contract
  std::string credentials;                           // --uplink-credentials: YAML app_id, app_secret
  Micros position_every = 30 * kSecond;              // --uplink-position-every: engine time between position batches
  int max_batch_records = 1000;                      // --uplink-max-batch-records: records per batch at most
};

}  // namespace planttwin::hil
