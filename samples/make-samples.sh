#!/usr/bin/env bash
# Regenerates the sample images in samples/images (checked in; made here, not copied from anywhere).
# Needs ImageMagick and exiftool.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p images
font=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
# Colour bars with a grey ramp: a test chart for colour and scaling.
convert -size 640x360 xc:black \
  \( -size 91x270 xc:'#c0c0c0' xc:'#c0c000' xc:'#00c0c0' xc:'#00c000' xc:'#c000c0' xc:'#c00000' xc:'#0000c0' +append \) -geometry +3+0 -composite \
  \( -size 360x640 gradient:white-black -rotate 90 -resize 640x90! \) -geometry +0+270 -composite \
  -font "$font" -pointsize 28 -fill white -annotate +20+320 'cnnpipe test chart' -quality 92 images/color-bars.jpg
# A zone plate: fine rings that show aliasing when resized badly.
convert -size 512x512 xc: -fx 'xx=(i-w/2)/w*40; yy=(j-h/2)/h*40; 0.5+0.5*cos((xx*xx+yy*yy)*0.7)' -colorspace gray -depth 8 images/zone-plate.png
# A transparent checkerboard disc (RGBA, lossless WebP).
convert -size 400x400 pattern:checkerboard -scale 800% -crop 400x400+0+0 +repage \
  \( -size 400x400 xc:none -fill white -draw 'circle 200,200 200,20' \) -alpha off -compose copy_opacity -composite \
  -define webp:lossless=true images/checker-disc.webp
# A photo-like plasma scene, stored sideways with an EXIF orientation tag (cnnpipe turns it upright).
convert -seed 7 -size 480x320 plasma:steelblue-orange -blur 0x2 -font "$font" -pointsize 40 -fill white \
  -annotate +30+180 'this way up' -rotate -90 -quality 90 images/sideways.jpg
exiftool -q -overwrite_original -n -Orientation=6 -Artist='cnnpipe samples' images/sideways.jpg
ls -l images
