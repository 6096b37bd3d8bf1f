# Built-in strings of botwright, in French (fr).
# Placeholders are Bot Builder v3's: %s is the next argument (see the `builtin` module
# documentation for which message gets which). An application overrides any id per locale.

default_text = Je n'ai pas compris. Veuillez réessayer.
default_number = Je n'ai pas reconnu de nombre. Veuillez saisir un nombre.
default_confirm = Je n'ai pas compris. Veuillez répondre par 'oui' ou par 'non'.
default_choice = Je n'ai pas compris. Veuillez choisir une option dans la liste.
default_time = Je n'ai pas reconnu l'heure saisie. Veuillez réessayer, par exemple « demain à 17 h » ou « 2026-12-24 18:00 ».
default_file = Je n'ai reçu aucun fichier. Veuillez réessayer.
default_error = Oups. Une erreur s'est produite et nous devons recommencer.
list_or = {" "}ou{" "}
list_or_more = {" "}ou{" "}
confirm_yes = Oui
confirm_no = Non
yes_words = oui|o|ouais|d'accord|bien sûr|bien sur|ok|okay|vrai|1
no_words = non|n|nan|pas du tout|faux|2
number_words = zéro/zero|un/une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix
ordinal_words = premier/première/premiere|deuxième/deuxieme/second/seconde|troisième/troisieme|quatrième/quatrieme|cinquième/cinquieme|sixième/sixieme|septième/septieme|huitième/huitieme|neuvième/neuvieme|dixième/dixieme
number_min_error = Le nombre saisi est inférieur à la valeur minimale autorisée de %s. Veuillez saisir un nombre valide.
number_max_error = Le nombre saisi est supérieur à la valeur maximale autorisée de %s. Veuillez saisir un nombre valide.
number_range_error = Le nombre saisi est en dehors de la plage autorisée, de %s à %s. Veuillez saisir un nombre valide.
number_integer_error = Le nombre saisi n'est pas un entier. Veuillez saisir un nombre entier.
text_min_length_error = Le texte saisi est plus court que la longueur minimale autorisée de %s. Veuillez réessayer.
text_max_length_error = Le texte saisi est plus long que la longueur maximale autorisée de %s. Veuillez réessayer.
