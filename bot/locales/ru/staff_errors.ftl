# Why a staff command could not be carried out (StaffError codes). HTML: values come escaped.

# $codes: the first few unknown codes, each cut, joined with ", "; $more: yes / no
staff-error-unknown-organizations =
    { $more ->
        [yes] нет организаций с кодами: { $codes } и другие
       *[no] нет организаций с кодами: { $codes }
    }
