package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math/bits"
)

// decodeXWD decodes the ZPixmap true-colour dumps that xwd writes for an
// Xvfb screen (24 or 32 bits per pixel, either byte order).
func decodeXWD(b []byte) (*image.NRGBA, error) {
	if len(b) < 100 {
		return nil, errors.New("xwd: short header")
	}
	h := make([]uint32, 25)
	for i := range h {
		h[i] = binary.BigEndian.Uint32(b[i*4:])
	}
	headerSize, version, format := h[0], h[1], h[2]
	width, height := int(h[4]), int(h[5])
	byteOrder, bpp, stride := h[7], int(h[11]), int(h[12])
	rmask, gmask, bmask := h[14], h[15], h[16]
	ncolors := int(h[19])
	if version != 7 || format != 2 || (bpp != 32 && bpp != 24) {
		return nil, fmt.Errorf("xwd: unsupported dump (version %d, format %d, %d bpp)", version, format, bpp)
	}
	off := int(headerSize) + ncolors*12
	if width <= 0 || height <= 0 || stride < width*bpp/8 || off+stride*height > len(b) {
		return nil, errors.New("xwd: truncated image")
	}
	img := image.NewNRGBA(image.Rect(0, 0, width, height))
	chan8 := func(p, mask uint32) uint8 {
		if mask == 0 {
			return 0
		}
		v := (p & mask) >> bits.TrailingZeros32(mask)
		return uint8(v * 255 / (mask >> bits.TrailingZeros32(mask)))
	}
	for y := range height {
		row := b[off+y*stride:]
		for x := range width {
			var p uint32
			px := row[x*bpp/8:]
			switch {
			case bpp == 32 && byteOrder == 0:
				p = binary.LittleEndian.Uint32(px)
			case bpp == 32:
				p = binary.BigEndian.Uint32(px)
			case byteOrder == 0:
				p = uint32(px[0]) | uint32(px[1])<<8 | uint32(px[2])<<16
			default:
				p = uint32(px[2]) | uint32(px[1])<<8 | uint32(px[0])<<16
			}
			img.SetNRGBA(x, y, color.NRGBA{R: chan8(p, rmask), G: chan8(p, gmask), B: chan8(p, bmask), A: 255})
		}
	}
	return img, nil
}
