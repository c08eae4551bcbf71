package bitstream

var crcTable = func() (t [256]uint32) {
	for i := range t {
		c := uint32(i) << 24
		for range 8 {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04c11db7
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return
}()

// CRC32MPEG2 is the CRC-32/MPEG-2 of b (ISO/IEC 13818-1 annex A:
// polynomial 0x04C11DB7, initial value 0xFFFFFFFF, no reflection, no final
// XOR), the CRC_32 of PSI sections. Over a whole section including its
// CRC_32 field it is 0 when the section is intact.
func CRC32MPEG2(b []byte) uint32 {
	c := uint32(0xffffffff)
	for _, x := range b {
		c = c<<8 ^ crcTable[byte(c>>24)^x]
	}
	return c
}
