package pixclock

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"time"
)

// Layout of the code (see the package documentation).
const (
	Cols     = 16 // cells across
	Rows     = 11 // cells down: 1 sync row + 10 data rows
	DataBits = 80 // 48 bits of time + 32 bits of CRC-32C

	// MinWidth and MinHeight are the smallest plane Decode reads: two
	// pixels per cell.
	MinWidth  = 2 * Cols
	MinHeight = 2 * Rows

	// MaxMillis is the largest time the code carries (48 bits of ms:
	// the year 10889).
	MaxMillis = 1<<48 - 1

	// Black and White are the luma of the cells (limited range).
	Black = 16
	White = 235
)

// sync is row 0: 1 is white. It has no period shorter than the row and
// as many white as black cells.
var sync = [Cols]byte{1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1}

// magic is hashed before the time bytes so that the CRC of this code
// differs from a CRC-32C of six bytes anywhere else.
var magic = []byte("SKPC")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors of the pixel clock; test with errors.Is.
var (
	// ErrUnreadable: the plane does not carry a code that can be
	// trusted (no sync, a weak bit, a CRC mismatch). The error message
	// says which.
	ErrUnreadable = errors.New("pixclock: unreadable")
	// ErrTooSmall: the plane is smaller than MinWidth × MinHeight.
	ErrTooSmall = errors.New("pixclock: plane too small")
	// ErrRange: a time outside 1970 … MaxMillis ms.
	ErrRange = errors.New("pixclock: time out of range")
)

// word returns the 80 bits for ms, most significant first.
func word(ms int64) [10]byte {
	var w [10]byte
	binary.BigEndian.PutUint16(w[0:], uint16(ms>>32))
	binary.BigEndian.PutUint32(w[2:], uint32(ms))
	binary.BigEndian.PutUint32(w[6:], checksum(w[:6]))
	return w
}

func checksum(time6 []byte) uint32 {
	c := crc32.Update(0, castagnoli, magic)
	return crc32.Update(c, castagnoli, time6)
}

// cellRect is cell (col,row) of a w×h plane: edges at round(i*w/Cols).
func cellRect(col, row, w, h int) (x0, y0, x1, y1 int) {
	return col * w / Cols, row * h / Rows, (col + 1) * w / Cols, (row + 1) * h / Rows
}

// Draw paints the code for t (millisecond resolution) over all of img.
func Draw(img *image.Gray, t time.Time) error {
	ms := t.UnixMilli()
	if ms < 0 || ms > MaxMillis {
		return fmt.Errorf("%w: %v", ErrRange, t)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w < MinWidth || h < MinHeight {
		return fmt.Errorf("%w: %dx%d", ErrTooSmall, w, h)
	}
	var cells [Rows][Cols]byte
	cells[0] = sync
	wd := word(ms)
	for i := range DataBits {
		bit := wd[i/8] >> (7 - i%8) & 1
		row, col := 1+i/8, 2*(i%8)
		cells[row][col], cells[row][col+1] = bit, 1-bit
	}
	for r := range Rows {
		for c := range Cols {
			v := byte(Black)
			if cells[r][c] == 1 {
				v = White
			}
			x0, y0, x1, y1 := cellRect(c, r, w, h)
			for y := y0; y < y1; y++ {
				off := img.PixOffset(b.Min.X+x0, b.Min.Y+y)
				row := img.Pix[off : off+x1-x0]
				for i := range row {
					row[i] = v
				}
			}
		}
	}
	return nil
}

// sample is the mean luma of the middle half of a cell.
func sample(img *image.Gray, col, row int) float64 {
	b := img.Bounds()
	x0, y0, x1, y1 := cellRect(col, row, b.Dx(), b.Dy())
	qx, qy := (x1-x0)/4, (y1-y0)/4
	x0, x1, y0, y1 = x0+qx, x1-qx, y0+qy, y1-qy
	var sum, n int
	for y := y0; y < y1; y++ {
		off := img.PixOffset(b.Min.X+x0, b.Min.Y+y)
		for _, v := range img.Pix[off : off+x1-x0] {
			sum += int(v)
		}
		n += x1 - x0
	}
	return float64(sum) / float64(n)
}

// Thresholds of the decoder, as fractions (see the package documentation).
const (
	minContrast = 0.25 * (White - Black) // sync white − black
	syncMargin  = 0.25                   // of the contrast, from the mid level
	bitMargin   = 0.30                   // of the contrast, between a bit's cells
)

// Decode reads the capture time from a luma plane of any size at least
// MinWidth × MinHeight showing a whole clock frame (scaled or not). It
// returns the time, or an error wrapping ErrUnreadable (or ErrTooSmall)
// when the code cannot be trusted: it never returns a time the frame
// does not carry, short of a 2⁻³² CRC collision.
func Decode(img *image.Gray) (time.Time, error) {
	if img == nil {
		return time.Time{}, fmt.Errorf("%w: no plane", ErrUnreadable)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w < MinWidth || h < MinHeight {
		return time.Time{}, fmt.Errorf("%w: %dx%d", ErrTooSmall, w, h)
	}
	// A hostile image.Gray may lie about its stride or pixels.
	if img.Stride < w || img.Stride > len(img.Pix) || h > len(img.Pix) || len(img.Pix) < img.PixOffset(b.Max.X-1, b.Max.Y-1)+1 || img.PixOffset(b.Min.X, b.Min.Y) < 0 {
		return time.Time{}, fmt.Errorf("%w: pixel buffer smaller than %dx%d (stride %d)", ErrUnreadable, w, h, img.Stride)
	}
	var s [Rows][Cols]float64
	for r := range Rows {
		for c := range Cols {
			s[r][c] = sample(img, c, r)
		}
	}
	var white, black float64
	for c, v := range sync {
		if v == 1 {
			white += s[0][c]
		} else {
			black += s[0][c]
		}
	}
	white, black = white/8, black/8
	contrast := white - black
	if contrast < minContrast {
		return time.Time{}, fmt.Errorf("%w: no sync row (contrast %.0f)", ErrUnreadable, contrast)
	}
	mid := (white + black) / 2
	for c, v := range sync {
		if d := s[0][c] - mid; (v == 1 && d < syncMargin*contrast) || (v == 0 && -d < syncMargin*contrast) {
			return time.Time{}, fmt.Errorf("%w: sync cell %d is %.0f (black %.0f, white %.0f)", ErrUnreadable, c, s[0][c], black, white)
		}
	}
	var wd [10]byte
	for i := range DataBits {
		row, col := 1+i/8, 2*(i%8)
		d := s[row][col] - s[row][col+1]
		if d > -bitMargin*contrast && d < bitMargin*contrast {
			return time.Time{}, fmt.Errorf("%w: weak bit %d (cells differ by %.0f of %.0f)", ErrUnreadable, i, d, contrast)
		}
		if d > 0 {
			wd[i/8] |= 1 << (7 - i%8)
		}
	}
	if got, want := binary.BigEndian.Uint32(wd[6:]), checksum(wd[:6]); got != want {
		return time.Time{}, fmt.Errorf("%w: checksum %08x, want %08x", ErrUnreadable, got, want)
	}
	ms := int64(binary.BigEndian.Uint16(wd[0:]))<<32 | int64(binary.BigEndian.Uint32(wd[2:]))
	return time.UnixMilli(ms), nil
}
