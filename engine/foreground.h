// The query's foreground: what a work-in-progress layer shows of the drawing. A character layer or
// cel exported with transparency carries it in its alpha channel; one exported on white, or a
// pencil test on paper, has a blank background around the drawing.
#pragma once

#include "engine/image.h"

namespace celtrace::engine {

struct Foreground {
  // 255 where the picture has content, 0 on the background; the picture's size (alpha's size when
  // an alpha channel decided). Empty when the whole picture is content: no background was found.
  GrayImage mask;
  double share = 1;  // share of the picture that is content, 0..1
  bool from_alpha = false;
  // The picture's border is pale and blank (white, paper), whether or not the picture left enough
  // of it empty to be a layer: a drawing on paper. Not decided for a layer found by its alpha.
  bool pale_page = false;
};

// `alpha` may be empty (opaque source). Without one, the background is the near-uniform,
// low-detail region of one brightness connected to the picture's border, kept when it covers
// enough of the border and of the picture, and when its brightness is that of a backdrop: white
// or paper, black (a layer whose alpha a converter dropped), or, told by `colour` (the picture in
// colour, any size; may be empty), dimmer paper of a near-neutral colour or a keying green.
Foreground find_foreground(const GrayImage& luma, const GrayImage& alpha,
                           const ColourImage& colour = {});

}  // namespace celtrace::engine
