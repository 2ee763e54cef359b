package flow

// Defaults returns the built-in authentication model every new realm gets.
func Defaults() Config {
	return Config{}
}
