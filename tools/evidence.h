// The frame pair behind a match, as people check it: the query's picture and the reference's at
// the times the visual check compared, in colour (match's report, lookup --evidence).
#pragma once

#include <string>

#include "engine/image.h"
#include "engine/media.h"
#include "index/lookup.h"

namespace celtrace::tools {

struct EvidencePictures {
  engine::ColourImage query, reference;
};

// Both pictures fitted within `size` pixels (longer side). Throws engine errors when a file cannot
// be read (a reference moved since it was indexed).
EvidencePictures evidence_pictures(const std::string& query_path, const index::Match& match,
                                   engine::DecodeOptions decode, int size);

// The pair side by side on a dark page, query left, reference right, both at the taller one's
// height; for partial evidence (a layer), the box where the query's content lies in the reference
// frame is outlined in red.
engine::ColourImage side_by_side(const EvidencePictures& pictures, const index::Match& match);

// A file name for the pair: "<query file stem>-<rank>-<reference name>.png", with characters
// that are not letters, digits, '.', '-' or '_' replaced by '_'.
std::string evidence_file_name(const std::string& query_path, int rank,
                               const std::string& reference_name);

}  // namespace celtrace::tools
