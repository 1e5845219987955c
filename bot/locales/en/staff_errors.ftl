# Why a staff command could not be carried out (StaffError codes). HTML: values come escaped.

# $codes: the first few unknown codes, each cut, joined with ", "; $more: yes / no
staff-error-unknown-organizations =
    { $more ->
        [yes] no organizations with codes: { $codes } and others
       *[no] no organizations with codes: { $codes }
    }
