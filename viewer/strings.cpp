#include "viewer/strings.h"

#include <cstring>

#include "engine/alarm.h"

namespace planttwin::viewer {

namespace {

struct Entry {
  const char *key, *zh, *en;
};

// keep sorted by topic; keys are plain words
constexpr Entry kTable[] = {
    // window and time controls
    {"title", "planttwin 安全孪生", "planttwin safety twin"},
    {"play", "播放", "Play"},
    {"pause", "暂停", "Pause"},
    {"step", "单步", "Step"},
    {"speed", "速度", "Speed"},
    {"time", "时间", "Time"},
    {"jump", "跳转", "Jump"},
    {"jump_to", "跳转到 (秒)", "Jump to (s)"},
    {"floor", "楼层", "Floor"},
    {"view_2d", "平面图", "Map 2D"},
    {"view_3d", "三维", "3D"},
    {"fit", "全图", "Fit"},
    {"language", "中文/English", "中文/English"},
    {"duty", "值班", "On duty"},
    {"nobody", "无人", "nobody"},
    {"refused_back", "演练中不能回退时间", "A drill cannot go back in time"},
    {"at_end", "已结束", "ended"},
    {"local_time", "本地时间", "Local time"},
    {"people", "人员", "People"},
    {"tag", "定位卡", "tag"},
    {"on_map", "本层", "on this floor"},
    {"legend", "图例", "Legend"},
    {"true_pos", "真实位置", "true position"},
    {"est_pos", "定位位置", "estimated position"},
    {"error_line", "定位误差", "positioning error"},
    {"orbit_hint", "拖动旋转，滚轮缩放", "drag to orbit, wheel to zoom"},
    {"map_hint", "拖动平移，滚轮缩放", "drag to pan, wheel to zoom"},
    // panels
    {"alarms", "报警", "Alarms"},
    {"permits", "作业票", "Permits"},
    {"headcount", "人数统计", "Headcount"},
    {"accuracy", "定位精度", "Accuracy"},
    {"delays", "报警延迟", "Alarm delays"},
    {"cameras", "视频联动", "Cameras"},
    {"drill", "演练", "Drill"},
    // alarms panel
    {"id", "编号", "ID"},
    {"type", "类型", "Type"},
    {"level", "级别", "Level"},
    {"who", "人员", "Who"},
    {"zone", "区域", "Zone"},
    {"raised", "触发", "Raised"},
    {"status", "状态", "Status"},
    {"ack", "确认", "Acknowledge"},
    {"handle", "处置", "Handle"},
    {"close", "关闭", "Close"},
    {"note", "说明", "Note"},
    {"by", "操作人", "By"},
    {"open_alarms", "未关闭报警", "Open alarms"},
    {"no_alarms", "无未关闭报警", "No open alarms"},
    {"select_alarm", "请选择一条报警", "Select an alarm"},
    {"st_raised", "待确认", "raised"},
    {"st_acknowledged", "已确认", "acknowledged"},
    {"st_handled", "已处置", "handled"},
    {"st_closed", "已关闭", "closed"},
    {"cleared", "已解除", "cleared"},
    {"active", "持续中", "active"},
    {"routed_to", "推送给", "Routed to"},
    {"ev_raised", "触发", "raised"},
    {"ev_escalated", "升级", "escalated"},
    {"ev_cleared", "解除", "cleared"},
    {"ev_acknowledged", "确认", "acknowledged"},
    {"ev_handled", "处置", "handled"},
    {"ev_closed", "关闭", "closed"},
    {"all_alarms", "全部报警", "All alarms"},
    // permits
    {"permit", "作业票", "Permit"},
    {"grade", "级别", "Grade"},
    {"workers", "作业人员", "Workers"},
    {"guardian", "监护人", "Guardian"},
    {"valid", "有效期", "Valid"},
    {"no_permits", "无作业票", "No permits"},
    // headcount
    {"total", "合计", "Total"},
    {"on_site", "厂内人数", "On site"},
    {"inactive", "未启用", "inactive"},
    {"cat_employee", "员工", "Employee"},
    {"cat_contractor", "承包商", "Contractor"},
    {"cat_visitor", "访客", "Visitor"},
    {"cat_driver", "司机", "Driver"},
    // accuracy
    {"fixes", "定位点数", "Fixes"},
    {"mean", "平均", "Mean"},
    {"histogram", "误差分布 (米)", "Error histogram (m)"},
    {"cdf", "误差累积分布", "Error CDF"},
    {"truth_mode", "定位即真值：无误差", "Fixes are the true positions: no error"},
    // delays
    {"delay_raise", "报警延迟 (相对真值孪生)", "Alarm delay (vs the oracle twin)"},
    {"delay_ack", "确认用时", "Time to acknowledge"},
    {"delay_handle", "处置用时", "Time to handle"},
    {"seconds", "秒", "s"},
    {"no_oracle", "定位即真值时无真值孪生", "No oracle twin when fixes are the truth"},
    {"matched", "匹配", "matched"},
    // cameras
    {"cameras_see", "可见该报警位置的摄像机", "Cameras that see the alarm"},
    {"no_cameras", "暂无摄像机信息", "No camera known for this alarm"},
    // drill
    {"drill_targets", "时限", "Targets"},
    {"drill_score", "当前得分", "Score so far"},
    {"drill_finish", "结束演练并生成报告", "Finish the drill and write the report"},
    {"drill_done", "演练结束", "Drill finished"},
    {"pass", "及时", "on time"},
    {"late", "超时", "late"},
    {"missed", "遗漏", "missed"},
    {"not_due", "未到期", "not due"},
    // levels
    {"lv_red", "红色", "red"},
    {"lv_orange", "橙色", "orange"},
    {"lv_yellow", "黄色", "yellow"},
    {"lv_blue", "蓝色", "blue"},
    // permit statuses
    {"ps_reserved", "已预约", "reserved"},
    {"ps_approved", "预约已批准", "approved"},
    {"ps_rejected", "预约已驳回", "rejected"},
    {"ps_applied", "已申请", "applied"},
    {"ps_signed", "已审批", "signed"},
    {"ps_in_progress", "作业中", "in progress"},
    {"ps_paused", "暂停", "paused"},
    {"ps_accepted", "已验收", "accepted"},
    {"ps_void", "作废", "void"},
    {"ps_revoked", "已取消", "revoked"},
    {"ps_expired", "已过期", "expired"},
    // permit types
    {"pt_hot_work", "动火作业", "hot work"},
    {"pt_confined_space", "受限空间作业", "confined space"},
    {"pt_blind_plate", "盲板抽堵作业", "blind plate"},
    {"pt_height", "高处作业", "work at height"},
    {"pt_lifting", "吊装作业", "lifting"},
    {"pt_temp_power", "临时用电作业", "temporary power"},
    {"pt_excavation", "动土作业", "excavation"},
    {"pt_road_break", "断路作业", "road break"},
};

Lang g_lang = Lang::zh;

const Entry* find(const char* key) {
  for (const Entry& e : kTable)
    if (std::strcmp(e.key, key) == 0) return &e;
  return nullptr;
}

}  // namespace

void set_lang(Lang l) { g_lang = l; }
Lang lang() { return g_lang; }

const char* tr(const char* key) {
  const Entry* e = find(key);
  if (!e) return key;
  return g_lang == Lang::zh ? e->zh : e->en;
}

std::string trid(const char* key) { return std::string(tr(key)) + "##" + key; }

std::vector<std::string> all_strings() {
  std::vector<std::string> v;
  for (const Entry& e : kTable) v.push_back(e.zh), v.push_back(e.en);
  for (AlarmType t : all_alarm_types()) v.push_back(zh(t));
  for (AlarmLevel l : {AlarmLevel::red, AlarmLevel::orange, AlarmLevel::yellow, AlarmLevel::blue}) v.push_back(zh(l));
  v.push_back("—…×·：，。（）①②③④⑤⑥⑦⑧⑨→←↑↓▶❚■●○");
  return v;
}

std::string alarm_type_label(AlarmType type) { return g_lang == Lang::zh ? zh(type) : to_string(type); }

std::string level_label(AlarmLevel level) {
  const std::string k = std::string("lv_") + to_string(level);
  return tr(k.c_str());
}

std::string category_label(int category) {
  static const char* keys[] = {"cat_employee", "cat_contractor", "cat_visitor", "cat_driver"};
  return category >= 0 && category < 4 ? tr(keys[category]) : "?";
}

std::string permit_status_label(const std::string& status) {
  const std::string k = "ps_" + status;
  return tr(k.c_str());
}

std::string permit_type_label(const std::string& type) {
  const std::string k = "pt_" + type;
  return tr(k.c_str());
}

}  // namespace planttwin::viewer
