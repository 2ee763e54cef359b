package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// Realm settings → Action: Partial export and Partial import, through the
// admin API's /partial-export and /partialImport.

// partialExportData is the partial export form.
type partialExportData struct {
	Action         string
	GroupsAndRoles bool
	Clients        bool
}

// realmPartialExport shows the partial export choices; the POST downloads
// what the admin API exports, secrets masked as it masks them.
func (h *Handler) realmPartialExport(q *rq) error {
	if !q.perms.can("manage-realm") {
		return errPage(http.StatusForbidden, "You do not have permission to export the realm.")
	}
	if q.post() {
		params := url.Values{"exportGroupsAndRoles": {strconv.FormatBool(q.checked("exportGroupsAndRoles"))},
			"exportClients": {strconv.FormatBool(q.checked("exportClients"))}}
		res, err := h.call(q.r, http.MethodPost, q.adminPath("/partial-export?"+params.Encode()), q.sess.Access, "", nil)
		if err != nil {
			return err
		}
		if res.status != http.StatusOK {
			return readError(res)
		}
		var buf bytes.Buffer
		if err := json.Indent(&buf, res.body.Bytes(), "", "  "); err != nil {
			buf.Reset()
			buf.Write(res.body.Bytes())
		}
		return q.download("realm-export.json", "application/json", buf.Bytes())
	}
	v := q.view("Realm settings", "realm-settings", "")
	v.Heading = "Partial export"
	v.Back = &link{Label: "Realm settings", URL: q.realmURL("/realm-settings")}
	v.Data = &partialExportData{Action: q.realmURL("/realm-settings/partial-export")}
	return q.render(http.StatusOK, "realm-partial-export.html", v)
}

// importResource is one kind of resource a partial import may take, by
// its place in the file.
type importResource struct {
	Name, Label string
	Checked     bool
}

// partialImportData is the partial import form and the admin API's answer.
type partialImportData struct {
	Action    string
	Resources []importResource
	Policies  []option
	Result    *partialImportResult
}

// partialImportResult is the admin API's answer to a partial import.
type partialImportResult struct {
	Added       int `json:"added"`
	Overwritten int `json:"overwritten"`
	Skipped     int `json:"skipped"`
	Results     []struct {
		Action       string `json:"action"`
		ResourceType string `json:"resourceType"`
		ResourceName string `json:"resourceName"`
		ID           string `json:"id"`
	} `json:"results"`
	Warnings []string `json:"warnings"`
}

// importResources are the resources Keycloak's partial import offers that
// the admin API imports.
var importResources = []importResource{
	{Name: "users", Label: "Users"},
	{Name: "clients", Label: "Clients"},
	{Name: "groups", Label: "Groups"},
	{Name: "realmRoles", Label: "Realm roles"},
	{Name: "clientRoles", Label: "Client roles"},
}

var importPolicies = []option{
	{Value: "FAIL", Label: "Fail import"},
	{Value: "SKIP", Label: "Skip"},
	{Value: "OVERWRITE", Label: "Overwrite"},
}

// maxImportFile is the largest file the partial import form takes: the
// admin API's own limit on a JSON body.
const maxImportFile = 16 << 20

// realmPartialImport uploads a realm file to the admin API's partial
// import: only the chosen resources are sent, with the policy chosen for
// resources that exist; the answer's counts, lines and warnings are shown.
func (h *Handler) realmPartialImport(q *rq) error {
	if !q.perms.can("manage-realm") {
		return errPage(http.StatusForbidden, "You do not have permission to import into the realm.")
	}
	v := q.view("Realm settings", "realm-settings", "")
	v.Heading = "Partial import"
	v.Back = &link{Label: "Realm settings", URL: q.realmURL("/realm-settings")}
	d := &partialImportData{Action: q.realmURL("/realm-settings/partial-import")}
	v.Data = d
	policy := "FAIL"
	picked := map[string]bool{}
	if q.post() {
		policy = q.form("ifResourceExists")
		for _, r := range importResources {
			picked[r.Name] = q.checked(r.Name)
		}
	}
	for _, r := range importResources {
		r.Checked = !q.post() || picked[r.Name]
		d.Resources = append(d.Resources, r)
	}
	d.Policies = selectOptions(importPolicies, policy)
	if !q.post() {
		return q.render(http.StatusOK, "realm-partial-import.html", v)
	}
	body, err := importBody(q, policy, picked)
	if err == nil {
		res := &partialImportResult{}
		if _, err = q.api(http.MethodPost, q.adminPath("/partialImport"), json.RawMessage(body), res); err == nil {
			d.Result = res
			return q.render(http.StatusOK, "realm-partial-import.html", v)
		}
	}
	return q.refused(v, "realm-partial-import.html", err)
}

// importBody reads the uploaded file and leaves out the resources that
// were not chosen. Every other member stays, so that the API reports what
// it does not store.
func importBody(q *rq, policy string, picked map[string]bool) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := uploadedJSON(q, &doc, "The file is not a realm's JSON representation."); err != nil {
		return nil, err
	}
	for _, name := range []string{"users", "clients", "groups"} {
		if !picked[name] {
			delete(doc, name)
		}
	}
	if roles, ok := doc["roles"]; ok {
		var r map[string]json.RawMessage
		if err := json.Unmarshal(roles, &r); err != nil {
			return nil, &fieldError{"file", "The file's roles are not a roles representation."}
		}
		if !picked["realmRoles"] {
			delete(r, "realm")
		}
		if !picked["clientRoles"] {
			delete(r, "client")
		}
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		doc["roles"] = b
	}
	p, err := json.Marshal(policy)
	if err != nil {
		return nil, err
	}
	doc["ifResourceExists"] = p
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, errors.Join(errors.New("partial import body"), err)
	}
	return out, nil
}

// uploadedJSON reads the form's "file" (an import: at most maxImportFile
// bytes) as a JSON object into v; notJSON is the field's error when it is
// not one.
func uploadedJSON(q *rq, v any, notJSON string) error {
	if q.r.MultipartForm == nil {
		return &fieldError{"file", "Choose a file to import."}
	}
	files := q.r.MultipartForm.File["file"]
	if len(files) == 0 {
		return &fieldError{"file", "Choose a file to import."}
	}
	f, err := files[0].Open()
	if err != nil {
		return err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxImportFile+1))
	if err != nil {
		return err
	}
	if len(raw) > maxImportFile {
		return &fieldError{"file", "The file is too large."}
	}
	if !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) || json.Unmarshal(raw, v) != nil {
		return &fieldError{"file", notJSON}
	}
	return nil
}
