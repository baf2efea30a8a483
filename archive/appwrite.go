package archive

import "strings"

// AppwriteService is the compose service that runs Appwrite itself in the
// stack Appwrite's installer writes; a stack with it is Appwrite-shaped.
const AppwriteService = "appwrite"

// Appwrite records which Appwrite a backup was taken from. Appwrite
// restores only into the version that wrote the data: its migrations run
// on upgrade, so a database of one version under the code of another is
// half migrated or ahead of its code.
type Appwrite struct {
	Service string `json:"service"`
	// Image is the reference the service's container was created from.
	Image string `json:"image"`
	// Version is the image's tag when the image is Appwrite's (its
	// repository is named appwrite); empty when it cannot be told.
	Version string `json:"version,omitempty"`
}

// AppwriteVersion is the Appwrite version an image reference names:
// appwrite/appwrite:1.8.0 → 1.8.0, registry.example:5000/mirror/appwrite:1.7.4
// → 1.7.4. An image whose repository is not named appwrite, one without a
// tag, pinned only by digest, or tagged latest names no version: "".
func AppwriteVersion(image string) string {
	ref, _, _ := strings.Cut(image, "@")
	slash := strings.LastIndexByte(ref, '/')
	repo, tag, ok := strings.Cut(ref[slash+1:], ":")
	if !ok || repo != "appwrite" || tag == "" || tag == "latest" {
		return ""
	}
	return tag
}
