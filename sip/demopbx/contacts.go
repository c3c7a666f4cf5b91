package demopbx

// Contact is a sample customer: the caller IDs of the customer line and
// the numbers the agent can call back. The local CRM is seeded with the
// same list in demo mode, so screen pops match.
type Contact struct {
	Name    string
	Company string
	Email   string
	Number  string // E.164
}

// Contacts returns the sample contacts. The numbers are in ranges reserved
// for fiction (Ofcom's 020 7946 0xxx, the North American 555-01xx), so
// nobody real is ever called.
func Contacts() []Contact {
	return []Contact{
		{Name: "Alice Martin", Company: "Northwind Traders", Email: "alice.martin@example.com", Number: "+442079460018"},
		{Name: "Bruno Keller", Company: "Contoso Ltd", Email: "bruno.keller@example.com", Number: "+442079460347"},
		{Name: "Carmen Diaz", Company: "Fabrikam Inc", Email: "carmen.diaz@example.com", Number: "+12025550143"},
		{Name: "Dmitri Ivanov", Company: "Tailspin Toys", Email: "dmitri.ivanov@example.com", Number: "+12025550187"},
		{Name: "Emma Schulz", Company: "Wide World Importers", Email: "emma.schulz@example.com", Number: "+442079460792"},
		{Name: "Farah Haddad", Company: "Adventure Works", Email: "farah.haddad@example.com", Number: "+13125550112"},
	}
}

// Extension is one dialable number of the demo PBX.
type Extension struct {
	Number string
	Label  string
}

// Extension numbers.
const (
	ExtEcho     = "*43"
	ExtBusy     = "486"
	ExtNoAnswer = "480"
)

// colleagues are the auto-answering colleague extensions.
var colleagues = map[string]string{
	"201": "Anna Berg",
	"202": "Ben Okafor",
	"203": "Chloé Martin",
	"204": "David Novak",
}

// Extensions lists what the agent can dial in demo mode (the demo banner
// shows it).
func Extensions() []Extension {
	return []Extension{
		{ExtEcho, "Echo test"},
		{"201", "Anna Berg (colleague)"},
		{"202", "Ben Okafor (colleague)"},
		{"203", "Chloé Martin (colleague)"},
		{"204", "David Novak (colleague)"},
		{ExtBusy, "Always busy"},
		{ExtNoAnswer, "Never answers"},
		{"999", "Invalid number (any unknown number)"},
	}
}

// contactByNumber returns the sample contact with number n.
func contactByNumber(n string) (Contact, bool) {
	for _, c := range Contacts() {
		if c.Number == n {
			return c, true
		}
	}
	return Contact{}, false
}
