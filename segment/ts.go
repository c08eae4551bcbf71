package segment

import "fmt"

func writeTSRendition(dir string, r *Rendition, td *trackData, starts []int, cfg *config) error {
	return fmt.Errorf("TS todo")
}
