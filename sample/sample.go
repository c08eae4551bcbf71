// Package sample embeds a tiny adaptive-bitrate ladder for demos, examples and tests.
//
// The ladder is made by testdata/gen.sh from ffmpeg's test sources: three
// H.264 High renditions (426x240, 640x360, 854x480; rate targets 90, 160
// and 280 kb/s) of the same 8 s of video with aligned 2 s closed GOPs
// (keyint 50 at 25 fps, no scenecut), and one 8 s AAC-LC stereo track.
// Every file is a faststart MP4 (moov before mdat).
//
// Files are served from memory: [Open] returns an [io.ReaderAt] and its
// size, the pair every streamkit reader takes.
package sample

import (
	"bytes"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"sort"
)

//go:embed media/*.mp4 media/*.m4a
var files embed.FS

// Names of the embedded files.
const (
	Video240 = "video_240.mp4"
	Video360 = "video_360.mp4"
	Video480 = "video_480.mp4"
	Audio    = "audio.m4a"
)

// Names returns the names of the embedded files, sorted.
func Names() []string {
	entries, err := fs.ReadDir(files, "media")
	if err != nil {
		panic("sample: embedded media missing: " + err.Error())
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// Videos returns the video renditions from lowest to highest resolution.
func Videos() []string { return []string{Video240, Video360, Video480} }

// Bytes returns the content of the named file. The slice is shared: do not
// modify it.
func Bytes(name string) ([]byte, error) {
	b, err := files.ReadFile("media/" + name)
	if err != nil {
		return nil, fmt.Errorf("sample: no file %q (have %v)", name, Names())
	}
	return b, nil
}

// Open returns a reader over the named file and its size in bytes.
func Open(name string) (io.ReaderAt, int64, error) {
	b, err := Bytes(name)
	if err != nil {
		return nil, 0, err
	}
	return bytes.NewReader(b), int64(len(b)), nil
}

// FS returns the embedded files as a file system rooted at the folder that
// holds them, for http.FileServerFS and fs.WalkDir.
func FS() fs.FS {
	sub, err := fs.Sub(files, "media")
	if err != nil {
		panic("sample: " + err.Error())
	}
	return sub
}
