// Record bodies for the park platform: field names after AQ 3064.3 App. B (positions, alarms,
// gatherings) and AQ 3064.2 App. A (permits). The mapping tables are in docs/uplink.md; a field
// the standards do not name is listed there as an assumption.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hardware-in-loop/uplink/uplink.h"

namespace planttwin::uplink {

using Json = nlohmann::ordered_json;

// "yyyy-MM-dd HH:mm:ss" in the clock's local offset (whole seconds, rounded down).
std::string platform_time(const WallClock& clock, Micros t);
// "+08:00"
std::string utc_offset_text(int minutes);
// AQ 3064.2 Table A.2 TICKETTYPE from a scenario-v1 type and grade; an unknown grade of a graded
// class gives the class code ("0", "2", "6"); an unknown type gives "".
std::string aq2_ticket_type(const std::string& type, const std::string& grade);
// AQ 3064.3 B.3 person alarm type (0 SOS, 1 越界, 2 滞留, 3 静止), else -1.
int aq3_person_alarm_type(AlarmType alarm_type);
// AQ 3064.3 B.4 zone alarm type (1 超员, 2 缺员), else -1.
int aq3_zone_alarm_type(AlarmType alarm_type);

// Where the last fix of a person was (for gathering members).
struct LastFix {
  double x = 0, y = 0;
  std::string floor;
};

struct RecordContext {
  const Site& site;
  WallClock clock;
  const UplinkOptions& opt;
  const LocalToCgcs2000& geo;
  std::string session;  // prefix that makes engine alarm ids unique across sessions
};

// "X", "Y" (CGCS2000 lon, lat in degrees; or local metres without an origin)
void put_xy(Json& j, const RecordContext& c, double x, double y, const char* kx = "X", const char* ky = "Y");

Json position_record(const RecordContext& c, Micros t, const std::string& person, const std::string& tag, double x,
                     double y, double z, const std::string& floor);
// One record per person for AQ3 B.3 alarms; one record otherwise.
std::vector<Json> alarm_records(const RecordContext& c, Micros t, const Alarm& a, const AlarmEvent& e);
Json gathering_record(const RecordContext& c, Micros t, const GatheringOutput& g, Micros first_seen,
                      const std::map<std::string, LastFix>& last);
Json permit_record(const RecordContext& c, Micros t, const PermitRecord& p, const std::string& status);
// Base data: AQ3 B.1 person (from UplinkOptions::people) and B.2 zone (GEO: the outline as WKT
// "POLYGON((lon lat, ...))" in CGCS2000, or local metres without an origin).
Json person_base_record(const RecordContext& c, const std::string& id, const UplinkPerson& p);
Json zone_base_record(const RecordContext& c, const Zone& z);

}  // namespace planttwin::uplink
