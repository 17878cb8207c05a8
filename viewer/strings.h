// Every operator-facing label of the viewer, in Chinese and English, in one table. Widgets use
// "label##key" so that switching the language keeps their ImGui identity.
#pragma once
#include <string>
#include <vector>

#include "engine/vocabulary.h"

namespace planttwin::viewer {

enum class Lang { zh, en };

void set_lang(Lang l);
Lang lang();
// The label of `key` in the current language; the key itself when the table lacks it.
const char* tr(const char* key);
// "label##key": a widget label that survives a language switch.
std::string trid(const char* key);
// Every string in the table (both languages), to build the font's glyph set.
std::vector<std::string> all_strings();

// Domain names in the current language.
std::string alarm_type_label(AlarmType type);
std::string level_label(AlarmLevel level);
std::string category_label(int category);
std::string permit_status_label(const std::string& status);
std::string permit_type_label(const std::string& type);

}  // namespace planttwin::viewer
