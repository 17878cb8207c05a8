// The omlox hub API v2 (docs/omlox.md; issue 14, H-03):
// - `--omlox-listen HOST:PORT`: planttwin serves the API for the scenario's site under /v2:
//   WebSocket /v2/ws/socket (wrapper object: subscribe / subscribed / unsubscribe / unsubscribed /
//   message / error; topics location_updates, fence_events and the vendor topics planttwin:alarms
//   and planttwin:stats) and REST (PUT /v2/providers/{id}/location, GET /v2/providers,
//   GET /v2/fences, GET /v2/zones). Published Locations become live-v1 `fix` inputs (source
//   "omlox"); fence events, alarms and stats go back to subscribers.
// - `--omlox-connect http://HOST:PORT/v2`: planttwin is the client of a vendor's hub, subscribes
//   to its location_updates (source "omlox-client") and reconnects with back-off.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hardware-in-loop/channel.h"

namespace planttwin::hil {

struct OmloxOptions {
  std::string listen;   // HOST:PORT ("" none); port 0 picks a free one
  std::string connect;  // http://HOST:PORT/v2 ("" none)
};

// Adds the server and / or the client to `out`. false with `error` (exit 2).
bool make_omlox_channels(const Scenario& sc, const OmloxOptions& o, std::vector<std::shared_ptr<Channel>>& out, std::string& error);

namespace omlox {

// Error codes of the WebSocket `error` event (omlox hub API).
enum ErrorCode { kUnknown = 10000, kUnknownTopic = 10001, kSubscriptionFailed = 10002, kUnsubscribeFailed = 10003,
                 kNotAuthorized = 10004, kInvalidPayload = 10005 };

// An EPSG geographic position (4326 WGS 84, 4490 CGCS2000) -> the site frame, through PROJ and
// the site's origin (the inverse of the uplink's site -> CGCS2000 conversion).
class GeoToSite {
 public:
  explicit GeoToSite(const Site& site);  // without an origin: valid() false
  ~GeoToSite();
  GeoToSite(const GeoToSite&) = delete;
  GeoToSite& operator=(const GeoToSite&) = delete;
  // lon, lat (degrees) in EPSG `epsg` -> x east, y north (m). false: no origin, unknown EPSG or PROJ failed.
  bool to_site(int epsg, double lon, double lat, double& x, double& y, std::string& error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One omlox Location -> a live-v1 `fix` body. `provider_id` from the REST path overrides (when
// not empty) and must match the Location's when both are given. false with a reason (live-v1
// reason codes) and detail.
bool location_to_fix(const nlohmann::json& loc, const std::string& path_provider, std::int64_t now_ms, GeoToSite& geo,
                     std::string& body, std::string& reason, std::string& detail);

// Deterministic UUID (name-based, SHA-256) for ids planttwin derives: fences, the site's zone, events.
std::string uuid_for(const std::string& name);

}  // namespace omlox

}  // namespace planttwin::hil
