#include "hardware-in-loop/uplink/records.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace planttwin::uplink {

std::string platform_time(const WallClock& clock, Micros t) {
  LocalTime lt = local_time(clock, t);
  int s = lt.second_of_day;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", lt.year, lt.month, lt.day, s / 3600, (s / 60) % 60,
                s % 60);
  return buf;
}

std::string utc_offset_text(int minutes) {
  char buf[16];
  int m = minutes < 0 ? -minutes : minutes;
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", minutes < 0 ? '-' : '+', m / 60, m % 60);
  return buf;
}

std::string aq2_ticket_type(const std::string& type, const std::string& grade) {
  if (type == "hot_work") {
    if (grade == "special") return "01";
    if (grade == "1") return "02";
    if (grade == "2") return "03";
    return "0";
  }
  if (type == "temp_power") return "10";
  if (type == "height") {
    if (grade == "I") return "21";
    if (grade == "II") return "22";
    if (grade == "III") return "23";
    if (grade == "IV") return "24";
    return "2";
  }
  if (type == "excavation") return "30";
  if (type == "road_break") return "40";
  if (type == "blind_plate") return "50";
  if (type == "lifting") {
    if (grade == "1") return "61";
    if (grade == "2") return "62";
    if (grade == "3") return "63";
    return "6";
  }
  if (type == "confined_space") return "70";
  return "";
}

int aq3_person_alarm_type(AlarmType t) {
  switch (t) {
    case AlarmType::sos: return 0;
    case AlarmType::boundary_crossing: return 1;
    case AlarmType::overstay: return 2;
    case AlarmType::stationary: return 3;
    default: return -1;
  }
}

int aq3_zone_alarm_type(AlarmType t) {
  switch (t) {
    case AlarmType::over_capacity: return 1;
    case AlarmType::under_staffing: return 2;
    default: return -1;
  }
}

void put_xy(Json& j, const RecordContext& c, double x, double y, const char* kx, const char* ky) {
  if (c.geo.valid()) {
    double lon = 0, lat = 0;
    c.geo.convert(x, y, lon, lat);
    j[kx] = lon;
    j[ky] = lat;
  } else {
    j[kx] = x;
    j[ky] = y;
  }
}

namespace {

std::string name_of(const RecordContext& c, const std::string& id) {
  auto it = c.opt.people.find(id);
  return it == c.opt.people.end() || it->second.name.empty() ? id : it->second.name;
}

Category category_of(const RecordContext& c, const std::string& id) {
  auto it = c.opt.people.find(id);
  return it == c.opt.people.end() ? Category::employee : it->second.category;
}

std::string join_names(const RecordContext& c, const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) {
    if (!out.empty()) out += ",";
    out += name_of(c, id);
  }
  return out;
}

std::string opt_time(const RecordContext& c, const std::optional<Micros>& t) {
  return t ? platform_time(c.clock, *t) : std::string();
}

}  // namespace

Json position_record(const RecordContext& c, Micros t, const std::string& person, const std::string& tag, double x,
                     double y, double z, const std::string& floor) {
  Json j;
  j["PERSON_ID"] = person;
  j["TAG_ID"] = tag;
  put_xy(j, c, x, y);
  j["Z"] = z;
  j["FLOOR_NO"] = floor;
  j["TIME_STAMP"] = platform_time(c.clock, t);
  return j;
}

std::vector<Json> alarm_records(const RecordContext& c, Micros t, const Alarm& a, const AlarmEvent& e) {
  const std::string uid = c.session + "-" + a.id;
  // the end of an alarm: its condition cleared, or (alarms without a condition) it was closed
  std::optional<Micros> end;
  if (a.cleared_at)
    end = *a.cleared_at;
  else if (!a.condition && a.closed_at)
    end = *a.closed_at;
  const AlarmLevel level = e.level == AlarmLevel::none ? a.level : e.level;
  std::string describe = std::string(zh(a.type)) + " " + zh(level) +
                         " " + to_string(e.kind);
  if (!e.note.empty()) describe += ": " + e.note;
  // fields every alarm record carries besides its table's (assumptions, docs/uplink.md)
  auto extend = [&](Json& j) {
    j["ALARM_ID"] = uid;
    j["PLANTTWIN_TYPE"] = to_string(a.type);
    j["EVENT"] = to_string(e.kind);
    j["EVENT_TIME"] = platform_time(c.clock, e.t);
    j["EVENT_BY"] = e.by;
    j["LEVEL"] = to_string(level);
    put_xy(j, c, a.pos.x, a.pos.y);
    j["FLOOR_NO"] = a.floor;
  };
  std::vector<Json> out;
  if (a.code != Aq2Code::none) {
    // AQ 3064.2 Table A.3
    Json j;
    j["TABLE"] = "AQ3064.2-A.3";
    j["ID"] = uid;
    j["TICKETID"] = a.permit;
    j["ALARMSTARTTIME"] = platform_time(c.clock, a.raised_at);
    j["ALARMTYPE"] = to_string(a.code);
    j["ALARMENDTIME"] = opt_time(c, end);
    j["ALARMRESULT"] = a.handling_status();
    j["DELETED"] = 0;
    j["CREATEDATE"] = platform_time(c.clock, a.raised_at);
    j["CREATEBY"] = "system";
    j["UPDATEDATE"] = platform_time(c.clock, t);
    j["UPDATEBY"] = e.by.empty() ? std::string("system") : e.by;
    extend(j);
    out.push_back(std::move(j));
    return out;
  }
  if (int zt = aq3_zone_alarm_type(a.type); zt >= 0) {
    Json j;
    j["TABLE"] = "AQ3064.3-B.4";
    j["ID"] = uid;
    j["ZONE_ID"] = a.zone;
    j["ALARM_TYPE"] = std::to_string(zt);
    j["ALARM_TIME"] = platform_time(c.clock, a.raised_at);
    j["ALARM_END_TIME"] = opt_time(c, end);
    j["DESCRIBE"] = describe;
    j["DELETED"] = 0;
    extend(j);
    out.push_back(std::move(j));
    return out;
  }
  int pt = aq3_person_alarm_type(a.type);
  // B.3 shape, one record per person; alarms outside B.3 keep the shape with the table "planttwin"
  std::vector<std::string> who = a.who;
  if (who.empty()) who.push_back("");
  for (const auto& person : who) {
    Json j;
    j["TABLE"] = pt >= 0 ? "AQ3064.3-B.3" : "planttwin-alarm";
    j["ID"] = who.size() > 1 || pt < 0 ? uid + "-" + person : uid;
    j["PERSON_ID"] = person;
    j["ZONE_ID"] = a.zone;
    j["ALARM_TYPE"] = pt >= 0 ? std::to_string(pt) : std::string();
    j["ALARM_TIME"] = platform_time(c.clock, a.raised_at);
    j["ALARM_END_TIME"] = opt_time(c, end);
    j["DESCRIBE"] = describe;
    j["DELETED"] = 0;
    extend(j);
    out.push_back(std::move(j));
  }
  return out;
}

Json gathering_record(const RecordContext& c, Micros t, const GatheringOutput& g, Micros first_seen,
                      const std::map<std::string, LastFix>& last) {
  // the group had held together for the dwell when it was first reported
  Micros start = first_seen - c.site.rules.gathering.dwell;
  Json j;
  j["TABLE"] = "AQ3064.3-B.5";
  j["ID"] = c.session + "-" + g.alarm_id;
  j["COMPANY_CODE"] = c.opt.company_code;
  j["TIME_STAMP"] = platform_time(c.clock, start);
  Json area = Json::array();
  for (const auto& m : g.members) {
    Json p;
    p["NAME"] = name_of(c, m);
    p["PERSONTYPE"] = aq3_code(category_of(c, m));
    p["PERSONID"] = m;
    auto it = last.find(m);
    Vec2 at = it == last.end() ? g.center : Vec2{it->second.x, it->second.y};
    put_xy(p, c, at.x, at.y);
    area.push_back(std::move(p));
  }
  j["ALARM_AREA"] = std::move(area);
  j["ALARM_LAST_TIME"] = (t - start) / kSecond;
  j["DELETED"] = 0;
  j["LEVEL"] = g.level;
  put_xy(j, c, g.center.x, g.center.y, "CENTER_X", "CENTER_Y");
  j["RADIUS"] = g.radius;
  j["FLOOR_NO"] = g.floor;
  j["TIME"] = platform_time(c.clock, t);
  return j;
}

Json permit_record(const RecordContext& c, Micros t, const PermitRecord& p, const std::string& status) {
  auto first = [&](const std::string& what) -> std::string {
    for (const auto& h : p.history)
      if (h.second == what) return platform_time(c.clock, h.first);
    return "";
  };
  auto last_with_prefix = [&](const std::string& prefix) -> std::string {
    for (auto it = p.history.rbegin(); it != p.history.rend(); ++it)
      if (it->second.rfind(prefix, 0) == 0) return it->second;
    return "";
  };
  Json j;
  j["TABLE"] = "AQ3064.2-A.1";
  j["ID"] = p.id;
  j["COMPANYNAME"] = c.opt.company_name;
  j["COMPANYCODE"] = c.opt.company_code;
  j["TICKETTYPE"] = aq2_ticket_type(p.type, p.grade);
  // gas analysis: the latest entry, one "name=value" per reading
  std::string gas_names, gas_values;
  if (!p.gas.empty()) {
    const PermitGasEntry& g = p.gas.back();
    auto add = [&](const std::string& name, double v) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", v);
      if (!gas_names.empty()) gas_names += ',';
      gas_names += name;
      if (!gas_values.empty()) gas_values += ',';
      gas_values += buf;
    };
    if (g.readings.flammable_volpct) add("flammable_volpct", *g.readings.flammable_volpct);
    if (g.readings.gas_lel_pct) add("gas_lel_pct", *g.readings.gas_lel_pct);
    if (g.readings.o2_volpct) add("O2_volpct", *g.readings.o2_volpct);
    for (const auto& [sub, ppm] : g.readings.toxic) add(sub + "_ppm", ppm);
    j["GASNAME"] = gas_names;
    j["GASTIME"] = platform_time(c.clock, g.t);
    j["GASVALUE"] = gas_values;
  } else {
    j["GASNAME"] = "";
    j["GASTIME"] = "";
    j["GASVALUE"] = "";
  }
  j["ISSUETIME"] = first("signed");
  j["STARTTIME"] = platform_time(c.clock, p.from);
  j["ENDTIME"] = platform_time(c.clock, p.to);
  j["CHECKEDTIME"] = first("accepted");
  // place: the floor and the area's vertex mean
  double cx = 0, cy = 0;
  for (const Vec2& v : p.area) {
    cx += v.x;
    cy += v.y;
  }
  if (!p.area.empty()) {
    cx /= static_cast<double>(p.area.size());
    cy /= static_cast<double>(p.area.size());
  }
  std::string zone;
  for (const Zone& z : c.site.zones)
    if (z.polygon.contains(Vec2{cx, cy})) {
      zone = z.name.empty() ? z.id : z.name;
      break;
    }
  // place in words: the zone around the area's centre, the floor, the centre in site metres
  char centre[64];
  std::snprintf(centre, sizeof centre, "(%.1f, %.1f) m", cx, cy);
  std::string place = zone;
  if (!p.floor.empty()) place += (place.empty() ? "" : ", ") + std::string("floor ") + p.floor;
  place += (place.empty() ? "" : ", ") + std::string("site ") + centre;
  j["TICKETPOSITION"] = place;
  j["TICKETCONTENT"] = p.type + (p.grade.empty() ? std::string() : " grade " + p.grade);
  put_xy(j, c, cx, cy, "LONGITUDE", "LATITUDE");
  // the last AQ 3064.2 status: `expired` has no code of its own (the expiry goes as alarm code 10)
  j["TICKETSTATUS"] = std::to_string(p.status == PermitStatus::expired ? p.aq2_code : aq2_status_code(p.status));
  j["SUPERVISORNAME"] = p.guardian.empty() ? std::string() : name_of(c, p.guardian);
  j["WORKERNAME"] = join_names(c, p.workers);
  j["WORKERCERTINAME"] = "";
  j["WORKERCERTINUM"] = "";
  j["WORKDEPARTMENT"] = "";
  bool contractor = false;
  for (const auto& w : p.workers) contractor = contractor || category_of(c, w) == Category::contractor;
  j["ISCONTRACTORWORK"] = contractor ? 1 : 0;
  j["TICKETRESPONSNAME"] = p.approver.empty() ? std::string() : name_of(c, p.approver);
  j["MAJORPERSONMOBILE"] = "";
  std::string handover = last_with_prefix("handover");
  j["ISCHANGED"] = handover.empty() ? 0 : 1;
  j["CHANGEDCAUSE"] = handover;
  bool cancelled = p.status == PermitStatus::void_ || p.status == PermitStatus::revoked;
  j["ISCANCELLED"] = cancelled ? 1 : 0;
  j["CANCELLEDCAUSE"] = cancelled ? std::string(to_string(p.status)) : std::string();
  j["DELETED"] = 0;
  j["CREATEDATE"] = p.history.empty() ? platform_time(c.clock, t) : platform_time(c.clock, p.history.front().first);
  j["CREATEBY"] = "planttwin";
  j["UPDATEDATE"] = platform_time(c.clock, t);
  j["UPDATEBY"] = "planttwin";
  // extensions (docs/uplink.md)
  j["STATUS_EVENT"] = status;
  j["TICKETGRADE"] = p.grade;
  j["WORKER_IDS"] = p.workers;
  j["SUPERVISOR_ID"] = p.guardian;
  j["FLOOR_NO"] = p.floor;
  return j;
}

}  // namespace planttwin::uplink

namespace planttwin::uplink {

Json person_base_record(const RecordContext& c, const std::string& id, const UplinkPerson& p) {
  Json j;
  j["TABLE"] = "AQ3064.3-B.1";
  j["ID"] = id;
  j["COMPANY_CODE"] = c.opt.company_code;
  j["COMPANY_NAME"] = c.opt.company_name;
  j["PERSON_NAME"] = p.name.empty() ? id : p.name;
  j["IDENTIFY_NUM"] = "";  // not in the scenario (ID card numbers stay with the enterprise's HR system)
  j["PERSON_TYPE"] = aq3_code(p.category);
  j["BIRTHDAY"] = "";
  j["GENDER"] = "";
  std::string roles;
  for (const std::string& r : p.roles) roles += (roles.empty() ? "" : ",") + r;
  j["POSITION_NAME"] = roles;
  j["MOBILE_NUMBER"] = "";
  j["AFFILIATED_DEPARTMENT"] = p.company;
  j["DELETED"] = 0;
  return j;
}

Json zone_base_record(const RecordContext& c, const Zone& z) {
  Json j;
  j["TABLE"] = "AQ3064.3-B.2";
  j["ID"] = z.id;
  j["COMPANY_CODE"] = c.opt.company_code;
  j["ZONE_NAME"] = z.name.empty() ? z.id : z.name;
  j["ZONE_TYPE"] = 1;  // a site zone is fixed (0 would be temporary)
  std::string wkt = "POLYGON((";
  auto point = [&](Vec2 q) {
    Json xy;
    put_xy(xy, c, q.x, q.y);
    char buf[64];
    std::snprintf(buf, sizeof buf, c.geo.valid() ? "%.8f %.8f" : "%.3f %.3f", xy["X"].get<double>(), xy["Y"].get<double>());
    return std::string(buf);
  };
  for (const Vec2& q : z.polygon.pts) wkt += point(q) + ", ";
  if (!z.polygon.pts.empty()) wkt += point(z.polygon.pts.front());  // closed ring
  j["GEO"] = wkt + "))";
  j["DELETED"] = 0;
  j["PLANTTWIN_KIND"] = to_string(z.kind);
  j["PLANTTWIN_RISK"] = to_string(z.risk);
  std::string floors;
  for (const std::string& f : z.floors) floors += (floors.empty() ? "" : ",") + f;
  j["PLANTTWIN_FLOORS"] = floors;
  return j;
}

}  // namespace planttwin::uplink
