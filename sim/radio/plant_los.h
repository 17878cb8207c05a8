// The plant's line of sight for the radio model, built from a site whose obstacles may use the
// radio's extra materials (metal, plastic, cardboard, foam, ...): names the site's `materials`
// table lacks are added to the model's list, so they get their radio defaults by name.
#pragma once
#include <memory>
#include <string>

#include "engine/site.h"
#include "sim/los.h"

namespace planttwin {

// nullptr with `error` set when the site cannot be modelled.
std::unique_ptr<LineOfSight> make_plant_los(const Site& site, std::string& error);

}  // namespace planttwin
