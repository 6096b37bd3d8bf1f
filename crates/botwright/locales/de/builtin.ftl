# Built-in strings of botwright, in German (de).
# Placeholders are Bot Builder v3's: %s is the next argument (see the `builtin` module
# documentation for which message gets which). An application overrides any id per locale.

default_text = Das habe ich nicht verstanden. Bitte versuche es noch einmal.
default_number = Das habe ich nicht als Zahl erkannt. Bitte gib eine Zahl ein.
default_confirm = Das habe ich nicht verstanden. Bitte antworte mit 'ja' oder 'nein'.
default_choice = Das habe ich nicht verstanden. Bitte wähle eine Option aus der Liste.
default_time = Die eingegebene Zeit habe ich nicht erkannt. Bitte versuche es noch einmal, zum Beispiel "morgen um 17 Uhr" oder "2026-12-24 18:00".
default_file = Ich habe keine Datei erhalten. Bitte versuche es noch einmal.
default_error = Hoppla. Etwas ist schiefgelaufen und wir müssen von vorn beginnen.
list_or = {" "}oder{" "}
list_or_more = {" "}oder{" "}
confirm_yes = Ja
confirm_no = Nein
yes_words = ja|j|jawohl|jep|klar|sicher|genau|okay|ok|wahr|1
no_words = nein|n|nee|nö|no|noe|auf keinen fall|falsch|2
number_words = null|eins/ein/eine|zwei|drei|vier|fünf/funf/fuenf|sechs|sieben|acht|neun|zehn
ordinal_words = erste/erster/erstes/ersten|zweite/zweiter/zweites/zweiten|dritte/dritter/drittes/dritten|vierte/vierter/viertes/vierten|fünfte/fünfter/fünftes/fünften/fuenfte/funfte|sechste/sechster/sechstes/sechsten|siebte/siebter/siebtes/siebten|achte/achter/achtes/achten|neunte/neunter/neuntes/neunten|zehnte/zehnter/zehntes/zehnten
number_min_error = Die eingegebene Zahl ist kleiner als der erlaubte Mindestwert von %s. Bitte gib eine gültige Zahl ein.
number_max_error = Die eingegebene Zahl ist größer als der erlaubte Höchstwert von %s. Bitte gib eine gültige Zahl ein.
number_range_error = Die eingegebene Zahl liegt außerhalb des erlaubten Bereichs von %s bis %s. Bitte gib eine gültige Zahl ein.
number_integer_error = Die eingegebene Zahl ist keine ganze Zahl. Bitte gib eine ganze Zahl ein.
text_min_length_error = Der eingegebene Text ist kürzer als die erlaubte Mindestlänge von %s. Bitte versuche es noch einmal.
text_max_length_error = Der eingegebene Text ist länger als die erlaubte Höchstlänge von %s. Bitte versuche es noch einmal.
